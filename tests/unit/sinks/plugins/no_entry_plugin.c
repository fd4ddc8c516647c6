/* A shared library that is not a sink plugin. */
__attribute__((visibility("default"))) int not_a_plugin(void) { return 42; }
