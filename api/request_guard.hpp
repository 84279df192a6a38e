#pragma once
// Keeps other web pages away from the API. A page in an operator's browser
// can send simple POSTs to 127.0.0.1 (cross-site request forgery), and with
// a DNS name it rebinds to 127.0.0.1 it can even read the answers; both
// could register a subscriber that receives every event. So:
//   - a request with an Origin header (browsers send one with every
//     cross-origin request and every POST) is refused, 403, unless the
//     Origin is the API's own: "http://" or "https://" followed by exactly
//     the Host the request is addressed to (port included, case aside). That
//     is the dashboard, served by the API itself (GET /). A page elsewhere
//     cannot send our Host with its Origin: the browser writes both, Origin
//     from the page's address and Host from the URL it calls;
//   - without api.token, a request addressed to a host name other than
//     localhost (Host header) is refused, 403: a rebinding page names its
//     own, and is same-origin with itself, so this rule is what stops it;
//     with a token, the page would need the token, which only the API's own
//     origin holds (in its sessionStorage).
// Programs (curl, scrapers, clients) send no Origin. Plain logic.

#include "api/api_request.hpp"
#include "api/api_response.hpp"

#include <optional>

namespace volley {

std::optional<api_response> refuse_browser_request(const api_request& request, bool token_set);

} // namespace volley
