#include "exporter/runtime/landing_page.h"

#include "exporter/version.h"

namespace mailtls::exporter {
namespace {

constexpr const char* kLandingPage = R"(<!DOCTYPE html>
<html lang="en">
<head><meta charset="utf-8"><title>mailtls_exporter</title>
<style>body{font-family:sans-serif;max-width:48em;margin:2em auto;line-height:1.4}
code{background:#f4f4f4;padding:0 .2em}</style></head>
<body>
<h1>mailtls_exporter</h1>
<p>Watches the transport security of mail domains: DANE (TLSA and DNSSEC), MTA-STS,
TLS-RPT and STARTTLS.</p>
<ul>
<li><a href="metrics">Metrics</a></li>
<li><a href="-/healthy">Health</a> and <a href="-/ready">readiness</a></li>
</ul>
<form action="probe" method="get">
<label>Probe a configured domain: <input name="target" placeholder="example.com"></label>
<label><input type="checkbox" name="debug" value="true"> debug</label>
<input type="submit" value="Probe">
</form>
<p>Version {VERSION} (revision {REVISION}).</p>
</body>
</html>
)";

}  // namespace

std::string landing_page() {
  std::string page = kLandingPage;
  auto replace = [&](const std::string& key, const std::string& value) {
    if (auto pos = page.find(key); pos != std::string::npos) page.replace(pos, key.size(), value);
  };
  replace("{VERSION}", kVersion);
  replace("{REVISION}", kRevision);
  return page;
}

}  // namespace mailtls::exporter
