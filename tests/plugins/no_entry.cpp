// A shared library in the plugin dir without the entry symbol: the daemon must refuse it.
extern "C" __attribute__((visibility("default"))) int facecycle_not_the_entry() { return 42; }
