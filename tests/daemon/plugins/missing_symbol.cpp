// Refused: a shared library without the facecycle entry point.
extern "C" __attribute__((visibility("default"))) int not_a_facecycle_plugin() { return 42; }
