#include "cli/signing_keys.hpp"

#include "cli/command_line.hpp"
#include "signing/signature.hpp"
#include "signing/timestamp_tolerance.hpp"

namespace volley::cli {

std::vector<std::string> signing_keys_from_options(const parsed_options& options) {
  std::vector<std::string> keys;
  const auto secrets = options.values("secret");
  for (size_t i = 0; i < secrets.size(); ++i) {
    // Name the secret by position: echoing it would leak it into logs.
    const std::string which = "--secret #" + std::to_string(i + 1);
    if (secrets[i].empty())
      throw usage_error(which + " is empty");
    auto key = signing_key_from_secret(secrets[i]);
    if (!key)
      throw usage_error(which + " starts with whsec_ but the rest is not valid base64 "
                                "(copy the whole secret from the subscriber's config)");
    keys.push_back(std::move(*key));
  }
  return keys;
}

int64_t timestamp_tolerance_from_options(const parsed_options& options) {
  // Up to ten years: enough to check a delivery captured long ago by hand.
  if (auto text = options.value("tolerance"))
    return parse_integer(*text, "--tolerance", 0, 315360000);
  return default_timestamp_tolerance_s;
}

} // namespace volley::cli
