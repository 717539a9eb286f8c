#include "log/log_metrics.h"

namespace eddy::log {

Histogram& FsyncLatency() {
  static Histogram* h = new Histogram();  // never destroyed: used until exit
  return *h;
}

}  // namespace eddy::log
