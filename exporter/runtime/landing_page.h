#pragma once
// The HTML page served at / : links to the endpoints, a form for /probe, the version.

#include <string>

namespace mailtls::exporter {

std::string landing_page();

}  // namespace mailtls::exporter
