#include "api/dashboard_page.hpp"

#include "api/dashboard_assets.hpp" // generated from dashboard/ at build time

#include <stdexcept>
#include <string_view>

namespace volley {

namespace {

// The page may load its own script and style and call its own origin,
// nothing else; no other site may frame it.
constexpr const char* content_security_policy =
  "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
  "connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

api_response file_response(std::string body, const char* content_type) {
  api_response r;
  r.body = std::move(body);
  r.content_type = content_type;
  r.headers = {{"Cache-Control", "no-cache"},
               {"X-Content-Type-Options", "nosniff"},
               {"Referrer-Policy", "no-referrer"},
               {"Content-Security-Policy", content_security_policy}};
  return r;
}

// index.html says whether the API wants a token where it has "{{token}}".
std::string page_for(bool token_set) {
  std::string page{dashboard_assets::index_html};
  const std::string_view marker = "{{token}}";
  auto at = page.find(marker);
  if (at == std::string::npos)
    throw std::logic_error("dashboard/index.html has no {{token}} marker (a bug in the build)");
  page.replace(at, marker.size(), token_set ? "required" : "none");
  return page;
}

} // namespace

std::vector<static_file> dashboard_files(bool token_set) {
  return {
    {"/", file_response(page_for(token_set), "text/html; charset=utf-8")},
    {"/dashboard/app.js",
     file_response(std::string{dashboard_assets::app_js}, "text/javascript; charset=utf-8")},
    {"/dashboard/style.css",
     file_response(std::string{dashboard_assets::style_css}, "text/css; charset=utf-8")},
  };
}

} // namespace volley
