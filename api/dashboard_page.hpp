#pragma once
// The dashboard: one page (GET /) with its script and style sheet, built
// into volleyd from dashboard/ (cmake/embed_files.cmake), so the binary
// serves it alone, with no CDN. The files hold no data: they are served
// without the token (route_access::open), and the page calls the API with
// the token the operator types in. Plain logic, no I/O.

#include "api/api_response.hpp"

#include <string>
#include <vector>

namespace volley {

struct static_file {
  std::string path; // "/", "/dashboard/app.js", ...
  api_response response;
};

// `token_set`: api.token is set, so the page asks for it before calling.
std::vector<static_file> dashboard_files(bool token_set);

} // namespace volley
