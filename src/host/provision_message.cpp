#include "host/provision_message.h"

#include "common/error.h"
#include "device/protocol.h"

namespace mcusplit::host {
namespace {

void put_string(std::vector<uint8_t>& out, const std::string& s) {
  uint8_t n[4];
  device::store_le32(n, static_cast<uint32_t>(s.size()));
  out.insert(out.end(), n, n + 4);
  out.insert(out.end(), s.begin(), s.end());
}

class Reader {
 public:
  explicit Reader(const std::vector<uint8_t>& body) : body_(body) {}

  uint32_t u32() {
    need(4);
    const uint32_t v = device::load_le32(body_.data() + pos_);
    pos_ += 4;
    return v;
  }
  std::string string() {
    const uint32_t n = u32();
    need(n);
    std::string s(body_.begin() + static_cast<std::ptrdiff_t>(pos_),
                  body_.begin() + static_cast<std::ptrdiff_t>(pos_ + n));
    pos_ += n;
    return s;
  }
  bool done() const { return pos_ == body_.size(); }

 private:
  void need(size_t n) const {
    if (body_.size() - pos_ < n) throw Error("the provisioning message is truncated");
  }
  const std::vector<uint8_t>& body_;
  size_t pos_ = 0;
};

void put_strings(std::vector<uint8_t>& out, const std::vector<std::string>& list) {
  uint8_t n[4];
  device::store_le32(n, static_cast<uint32_t>(list.size()));
  out.insert(out.end(), n, n + 4);
  for (const std::string& s : list) put_string(out, s);
}

std::vector<std::string> get_strings(Reader& r, size_t body_bytes, const char* what) {
  const uint32_t count = r.u32();
  // Each string takes at least its 4-byte length: a corrupt count cannot
  // make us reserve wildly.
  if (count > body_bytes / 4) {
    throw Error(std::string("the provisioning message has a bad ") + what + " count");
  }
  std::vector<std::string> list;
  for (uint32_t i = 0; i < count; ++i) list.push_back(r.string());
  return list;
}

}  // namespace

std::vector<uint8_t> encode_provisioning(const Provisioning& p) {
  std::vector<uint8_t> out;
  out.reserve(p.image.size() + 64 * (p.names.size() + p.addresses.size()) + 12);
  put_string(out, p.image);
  put_strings(out, p.names);
  put_strings(out, p.addresses);
  return out;
}

Provisioning decode_provisioning(const std::vector<uint8_t>& body) {
  Reader r(body);
  Provisioning p;
  p.image = r.string();
  p.names = get_strings(r, body.size(), "name");
  p.addresses = get_strings(r, body.size(), "address");
  if (!r.done()) throw Error("the provisioning message has bytes left over");
  return p;
}

}  // namespace mcusplit::host
