// One writer per int8 operator: each appends the TFLite operator(s) that
// compute a QGraph layer's bits under TFLM, or refuses the layer (naming it
// and why) when TFLM would derive other integers from the file.
#pragma once

#include <string>

#include "quant/qgraph.h"
#include "tflite/export_model.h"

namespace mcusplit::tflite {

// Throws mcusplit::Error "cannot export layer '<name>' (<Op>): <why>".
[[noreturn]] void refuse_layer(const quant::QLayer& layer, const std::string& why);

void export_conv(ExportModel& m, const quant::QLayer& l);             // CONV_2D, DEPTHWISE_CONV_2D
void export_fully_connected(ExportModel& m, const quant::QLayer& l);  // FULLY_CONNECTED
void export_add(ExportModel& m, const quant::QLayer& l);              // ADD
void export_pool(ExportModel& m, const quant::QLayer& l);  // MAX_POOL_2D, AVERAGE_POOL_2D
void export_global_average_pool(ExportModel& m, const quant::QLayer& l);  // MEAN
void export_concat(ExportModel& m, const quant::QLayer& l);               // CONCATENATION
void export_reshape(ExportModel& m, const quant::QLayer& l);              // RESHAPE
void export_softmax(ExportModel& m, const quant::QLayer& l);              // SOFTMAX
void export_pad(ExportModel& m, const quant::QLayer& l);                  // PAD, PADV2

}  // namespace mcusplit::tflite
