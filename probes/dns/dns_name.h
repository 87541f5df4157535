#pragma once
// DNS names as the probes carry them after the wire parser: presentation format (RFC 1035
// §5.1) as dig and every DNS tool print it, lower case, no trailing dot. A label may hold any
// octet (RFC 2181 §11), so the octets that are not printable ASCII are written "\DDD" (decimal)
// and the ones that mean something in presentation format ('.', '\\', '"', '(', ')', ';', '@',
// '$') get a backslash: "a\.b\255.example" is the two labels "a.b\xff" and "example". Such a
// text is printable ASCII, safe in labels, JSON and terminals, and libunbound reads the escapes
// back, so a name from an MX record is asked about exactly as it was published.

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace mailtls::dns {

// Appends one label (raw octets) in presentation format, ASCII letters lowered.
void append_presentation_label(std::string& out, std::string_view label);

// The wire form (length-prefixed labels, root label included) of a presentation-format name;
// empty when the name is malformed: a bad escape, an empty label, a label over 63 octets, a
// name over 255 octets. "" and "." are the root.
std::optional<std::string> presentation_to_wire(std::string_view name);

// `name` without its trailing root dot, if it has one that is not an escaped "\.".
std::string_view without_root_dot(std::string_view name);

// True for a host name as TLS and MTA-STS know them: labels of ASCII letters, digits, '-' and
// '_' (the underscore for service names), 1 to 63 each, no escapes. A name with other octets
// in its labels is never sent as SNI and never matches a certificate or an mx: pattern.
bool is_host_name(std::string_view name);

// Reads a possibly compressed name from a whole DNS message at `pos` (advanced past the name
// as it stands at `pos`) into presentation format. Pointers must point backwards, so loops
// end; false on anything malformed.
bool read_message_name(std::string_view message, std::size_t& pos, std::string& out);

// The owner name the answer to `qtype` ends at, following the CNAME chain in the answer
// section of `message` from its question name: what libunbound's canonname says, but without
// its loss (it prints every octet other than letters, digits, '-', '_' and '*' as '?').
// Empty when the message cannot be read or its question is not `qname`.
std::optional<std::string> canonical_name_in_message(std::string_view message,
                                                     std::string_view qname);

}  // namespace mailtls::dns
