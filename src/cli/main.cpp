// Placeholder entry while the verbs are being written.
int main() { return 0; }
