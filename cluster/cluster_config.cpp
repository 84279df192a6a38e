#include "cluster/cluster_config.hpp"

#include <climits>
#include <unistd.h>

namespace volley {

std::string default_node_name() {
  char host[HOST_NAME_MAX + 1] = {};
  if (::gethostname(host, sizeof(host) - 1) != 0 || host[0] == '\0')
    return "localhost:" + std::to_string(::getpid());
  return std::string(host) + ":" + std::to_string(::getpid());
}

} // namespace volley
