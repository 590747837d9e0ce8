// oneDNN's C API (Debian: libdnnl-dev, which ships no pkg-config file; the headers are in
// /usr/include/oneapi/dnnl and the library is libdnnl.so).
#include <oneapi/dnnl/dnnl.h>
