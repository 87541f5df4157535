#pragma once
// What the web server checks in a request head (request line and header fields, up to the
// empty line) itself, before Boost.Beast's parser sees it: the leniencies RFC 9112 asks a
// server to refuse with 400, which the parser lets through (obs-fold) or which are worth a
// message of their own. Also the request target, split into path and query parameters.

#include <map>
#include <string>
#include <string_view>

namespace mailtls::exporter {

// Where the head in `buffered` ends (just after its CRLF CRLF), or npos while it is incomplete.
size_t find_request_head_end(std::string_view buffered);

// Empty when `head` (ending in CRLF CRLF) is acceptable, else why it gets 400: a control
// character (NUL, bare CR or LF, ...), a folded header line (obs-fold), white space before a
// field's colon, or a field line without a colon.
std::string check_request_head(std::string_view head);

// "/probe?target=a%2Eb&module=x" -> path "/probe" and params; percent-decoded, '+' is a space
// in the query. False for a target that is not in origin form or has a bad escape.
bool parse_request_target(std::string_view target, std::string* path,
                          std::multimap<std::string, std::string>* params);

}  // namespace mailtls::exporter
