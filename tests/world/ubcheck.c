/* ubcheck: ask libunbound, configured like the exporter's resolver, for one RRset and print
 * its DNSSEC status. Used by selftest.sh because Debian's unbound package has no
 * unbound-host. Usage: ubcheck <unbound.conf> <name> <type>
 * Prints one line: "secure", "insecure", "bogus: <why>", or "error: <text>"; an NXDOMAIN
 * or NODATA answer adds " nodata"/" nxdomain". Exit 0 unless the lookup itself failed. */
#include <stdio.h>
#include <string.h>
#include <unbound.h>

static int rrtype_of(const char* name) {
  static const struct {
    const char* name;
    int type;
  } types[] = {{"A", 1},      {"NS", 2},     {"CNAME", 5}, {"SOA", 6},   {"MX", 15},
               {"TXT", 16},   {"AAAA", 28},  {"DS", 43},   {"RRSIG", 46}, {"DNSKEY", 48},
               {"TLSA", 52}};
  for (size_t i = 0; i < sizeof types / sizeof types[0]; i++) {
    if (strcmp(types[i].name, name) == 0) return types[i].type;
  }
  return -1;
}

int main(int argc, char** argv) {
  if (argc != 4) {
    fprintf(stderr, "usage: %s <unbound.conf> <name> <type>\n", argv[0]);
    return 2;
  }
  int type = rrtype_of(argv[3]);
  if (type < 0) {
    fprintf(stderr, "unknown type %s\n", argv[3]);
    return 2;
  }
  struct ub_ctx* ctx = ub_ctx_create();
  if (ctx == NULL) {
    printf("error: ub_ctx_create\n");
    return 1;
  }
  int err = ub_ctx_config(ctx, argv[1]);
  if (err != 0) {
    printf("error: config: %s\n", ub_strerror(err));
    ub_ctx_delete(ctx);
    return 1;
  }
  struct ub_result* result = NULL;
  err = ub_resolve(ctx, argv[2], type, 1 /* IN */, &result);
  if (err != 0) {
    printf("error: resolve: %s\n", ub_strerror(err));
    ub_ctx_delete(ctx);
    return 1;
  }
  const char* answer = result->nxdomain ? " nxdomain" : (result->havedata ? "" : " nodata");
  if (result->bogus) {
    printf("bogus: %s%s\n", result->why_bogus ? result->why_bogus : "(no reason)", answer);
  } else if (result->secure) {
    printf("secure%s\n", answer);
  } else {
    printf("insecure%s rcode=%d\n", answer, result->rcode);
  }
  ub_resolve_free(result);
  ub_ctx_delete(ctx);
  return 0;
}
