// helmrender renders a Helm chart the way `helm template` does, for the subset of Helm the
// mailtls-exporter chart uses (Go text/template + sprig, .Values merged from values.yaml and
// override files, .Release, .Chart, .Capabilities, .Files.Get, include, tpl, toYaml,
// fromYaml, required), then checks what schemas cannot: references between the objects,
// that file paths given to the exporter lie in the container's mounts, name limits, the
// alert rules and dashboards against their sources. It writes objects.json and values.json
// for the schema validation with the npm packages (tests/ops/k8s_schema/validate.mjs).
// Exit status 0 when everything renders and validates, 1 otherwise.
package main

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"sort"
	"strings"
	"text/template"

	"github.com/Masterminds/sprig"
	"gopkg.in/yaml.v3"
)

type object = map[string]interface{}

type valueFiles []string

func (v *valueFiles) String() string     { return strings.Join(*v, ",") }
func (v *valueFiles) Set(s string) error { *v = append(*v, s); return nil }

var problems []string

func problem(format string, args ...interface{}) {
	problems = append(problems, fmt.Sprintf(format, args...))
}

// ------------------------------------------------------------------------------ values

func readYAML(path string) object {
	raw, err := os.ReadFile(path)
	if err != nil {
		fatal("%v", err)
	}
	var v object
	if err := yaml.Unmarshal(raw, &v); err != nil {
		fatal("%s: %v", path, err)
	}
	if v == nil {
		v = object{}
	}
	return v
}

// mergeValues merges override into base as Helm does: maps recursively, anything else replaced.
func mergeValues(base, override object) object {
	out := object{}
	for k, v := range base {
		out[k] = v
	}
	for k, v := range override {
		if bm, ok := out[k].(object); ok {
			if om, ok := v.(object); ok {
				out[k] = mergeValues(bm, om)
				continue
			}
		}
		out[k] = v
	}
	return out
}

// ----------------------------------------------------------------------------- objects

// Files is .Files: chart-relative reads (symlinks followed, as helm package does).
type Files struct{ root string }

func (f Files) Get(name string) string {
	raw, err := os.ReadFile(filepath.Join(f.root, name))
	if err != nil {
		return ""
	}
	return string(raw)
}

type APIVersions []string

func (a APIVersions) Has(v string) bool {
	for _, x := range a {
		if x == v {
			return true
		}
	}
	return false
}

func toYAML(v interface{}) string {
	var b bytes.Buffer
	enc := yaml.NewEncoder(&b)
	enc.SetIndent(2)
	if err := enc.Encode(v); err != nil {
		return ""
	}
	return strings.TrimSuffix(b.String(), "\n")
}

func render(chartDir string, values object, release string, namespace string) (map[string]string, object) {
	chartMeta := readYAML(filepath.Join(chartDir, "Chart.yaml"))
	chart := object{}
	for k, v := range chartMeta {
		chart[strings.ToUpper(k[:1])+k[1:]] = v
	}
	data := object{
		"Values":  values,
		"Release": object{"Name": release, "Namespace": namespace, "Service": "Helm", "IsInstall": true, "IsUpgrade": false, "Revision": 1},
		"Chart":   chart,
		"Capabilities": object{
			"KubeVersion": object{"Version": "v1.29.0", "Major": "1", "Minor": "29", "GitVersion": "v1.29.0"},
			"APIVersions": APIVersions{"v1", "apps/v1", "monitoring.coreos.com/v1"},
		},
		"Files":    Files{root: chartDir},
		"Template": object{"BasePath": chartDir + "/templates"},
	}

	root := template.New("chart")
	funcs := sprig.TxtFuncMap()
	funcs["toYaml"] = toYAML
	funcs["fromYaml"] = func(s string) object {
		var v object
		if err := yaml.Unmarshal([]byte(s), &v); err != nil {
			return object{"Error": err.Error()}
		}
		return v
	}
	funcs["toJson"] = func(v interface{}) string { b, _ := json.Marshal(v); return string(b) }
	funcs["required"] = func(msg string, v interface{}) (interface{}, error) {
		if v == nil || v == "" {
			return nil, fmt.Errorf("%s", msg)
		}
		return v, nil
	}
	funcs["include"] = func(name string, d interface{}) (string, error) {
		var b bytes.Buffer
		err := root.ExecuteTemplate(&b, name, d)
		return b.String(), err
	}
	funcs["tpl"] = func(text string, d interface{}) (string, error) {
		t, err := root.Clone()
		if err != nil {
			return "", err
		}
		t, err = t.New("tpl").Parse(text)
		if err != nil {
			return "", err
		}
		var b bytes.Buffer
		err = t.Execute(&b, d)
		return b.String(), err
	}
	funcs["lookup"] = func(...interface{}) object { return object{} }
	root.Funcs(funcs).Option("missingkey=zero")

	paths, _ := filepath.Glob(filepath.Join(chartDir, "templates", "*"))
	sort.Strings(paths)
	for _, p := range paths {
		raw, err := os.ReadFile(p)
		if err != nil {
			fatal("%v", err)
		}
		if _, err := root.New(filepath.Base(p)).Parse(string(raw)); err != nil {
			fatal("parse %s: %v", p, err)
		}
	}
	out := map[string]string{}
	for _, p := range paths {
		name := filepath.Base(p)
		if strings.HasPrefix(name, "_") {
			continue
		}
		var b bytes.Buffer
		tdata := object{}
		for k, v := range data {
			tdata[k] = v
		}
		tdata["Template"] = object{"Name": "templates/" + name, "BasePath": "templates"}
		if err := root.ExecuteTemplate(&b, name, tdata); err != nil {
			problem("render %s: %v", name, err)
			continue
		}
		out[name] = strings.ReplaceAll(b.String(), "<no value>", "")
	}
	return out, chart
}

// ----------------------------------------------------------------------------- helpers

func get(o interface{}, path ...string) interface{} {
	cur := o
	for _, p := range path {
		m, ok := cur.(object)
		if !ok {
			return nil
		}
		cur = m[p]
	}
	return cur
}

func str(o interface{}, path ...string) string {
	s, _ := get(o, path...).(string)
	return s
}

func list(o interface{}, path ...string) []interface{} {
	l, _ := get(o, path...).([]interface{})
	return l
}

func fatal(format string, args ...interface{}) {
	fmt.Fprintf(os.Stderr, "helmrender: "+format+"\n", args...)
	os.Exit(2)
}

var dns1123 = regexp.MustCompile(`^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$`)
var dns1035 = regexp.MustCompile(`^[a-z]([-a-z0-9]*[a-z0-9])?$`)
var labelValue = regexp.MustCompile(`^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$`)

var apiVersionOf = map[string]string{
	"Deployment": "apps/v1", "StatefulSet": "apps/v1", "Service": "v1", "ConfigMap": "v1",
	"PersistentVolumeClaim": "v1", "ServiceAccount": "v1", "Secret": "v1",
	"PodDisruptionBudget": "policy/v1", "Ingress": "networking.k8s.io/v1", "NetworkPolicy": "networking.k8s.io/v1",
	"ServiceMonitor": "monitoring.coreos.com/v1", "PrometheusRule": "monitoring.coreos.com/v1",
	"HTTPRoute": "gateway.networking.k8s.io/v1",
}

func subset(small, big object) bool {
	if len(small) == 0 {
		return false
	}
	for k, v := range small {
		if big[k] != v {
			return false
		}
	}
	return true
}

// ---------------------------------------------------------------------------- checks

type rendered struct {
	objs   []object
	byKind map[string][]object
}

func (r *rendered) find(kind, name string) object {
	for _, o := range r.byKind[kind] {
		if str(o, "metadata", "name") == name {
			return o
		}
	}
	return nil
}

func checkMetadata(o object, where string) {
	kind, api := str(o, "kind"), str(o, "apiVersion")
	if want, ok := apiVersionOf[kind]; !ok {
		problem("%s: unexpected kind %q", where, kind)
	} else if api != want {
		problem("%s: apiVersion %q, want %q", where, api, want)
	}
	name := str(o, "metadata", "name")
	if name == "" || len(name) > 253 || !dns1123.MatchString(name) {
		problem("%s: metadata.name %q is not a DNS-1123 name", where, name)
	}
	// A Service name is a DNS-1035 label. A StatefulSet's pods carry the label
	// controller-revision-hash=<name>-<hash of up to 10 characters>: at most 52.
	if kind == "Service" && (len(name) > 63 || !dns1035.MatchString(name)) {
		problem("%s: a Service name must be a DNS-1035 label of at most 63 characters", where)
	}
	if kind == "StatefulSet" && len(name) > 52 {
		problem("%s: StatefulSet name longer than 52 (its pods' controller-revision-hash label would exceed 63)", where)
	}
	for _, section := range []string{"labels", "annotations"} {
		m, ok := get(o, "metadata", section).(object)
		if get(o, "metadata", section) != nil && !ok {
			problem("%s: metadata.%s is not a map", where, section)
		}
		for k, v := range m {
			s, isString := v.(string)
			if !isString {
				problem("%s: %s %q has a non-string value %v", where, section, k, v)
			} else if section == "labels" && (len(s) > 63 || !labelValue.MatchString(s)) {
				problem("%s: label %s=%q is not a valid label value", where, k, s)
			}
		}
	}
	allowed := map[string]bool{"apiVersion": true, "kind": true, "metadata": true, "spec": true, "data": true, "automountServiceAccountToken": true, "stringData": true, "type": true}
	for k := range o {
		if !allowed[k] {
			problem("%s: unknown top-level field %q", where, k)
		}
	}
}

func checkWorkload(r *rendered, o object, where string, values object) {
	podLabels, _ := get(o, "spec", "template", "metadata", "labels").(object)
	matchLabels, _ := get(o, "spec", "selector", "matchLabels").(object)
	if !subset(matchLabels, podLabels) {
		problem("%s: spec.selector.matchLabels %v not within the pod labels %v", where, matchLabels, podLabels)
	}
	pod := get(o, "spec", "template", "spec")
	if get(pod, "securityContext", "runAsNonRoot") != true {
		problem("%s: pod securityContext.runAsNonRoot is not true", where)
	}
	if sa := str(pod, "serviceAccountName"); sa == "" || (get(values, "serviceAccount", "create") == true && r.find("ServiceAccount", sa) == nil) {
		problem("%s: serviceAccountName %q not rendered", where, sa)
	}
	volumes := map[string]bool{}
	volumeByName := map[string]object{}
	for _, v := range list(pod, "volumes") {
		vm := v.(object)
		volumeByName[str(vm, "name")] = vm
		sources := 0
		for k := range vm {
			if k != "name" {
				sources++
			}
		}
		if sources != 1 {
			problem("%s: volume %v must have exactly one source", where, vm["name"])
		}
		volumes[str(vm, "name")] = true
		if cm := str(vm, "configMap", "name"); cm != "" && str(values, "existingConfigMap") == "" && r.find("ConfigMap", cm) == nil {
			problem("%s: volume %s refers to ConfigMap %q, not rendered", where, vm["name"], cm)
		}
		if claim := str(vm, "persistentVolumeClaim", "claimName"); str(vm, "name") == "state" && claim != "" && str(values, "persistence", "existingClaim") == "" && r.find("PersistentVolumeClaim", claim) == nil {
			problem("%s: volume %s refers to PVC %q, not rendered", where, vm["name"], claim)
		}
	}
	for _, t := range list(o, "spec", "volumeClaimTemplates") {
		volumes[str(t, "metadata", "name")] = true
		if str(t, "spec", "resources", "requests", "storage") == "" {
			problem("%s: volumeClaimTemplate without a storage request", where)
		}
	}
	containers := list(pod, "containers")
	if len(containers) == 0 {
		problem("%s: no containers", where)
	}
	for _, c := range containers {
		name := str(c, "name")
		cw := fmt.Sprintf("%s container %s", where, name)
		image := str(c, "image")
		tag := str(values, "image", "tag")
		if tag == "" {
			tag = fmt.Sprint(get(values, "_appVersion"))
		}
		if want := str(values, "image", "repository") + ":" + tag; image != want {
			problem("%s: image %q, want %q", cw, image, want)
		}
		sc := get(c, "securityContext")
		if get(sc, "readOnlyRootFilesystem") != true || get(sc, "allowPrivilegeEscalation") != false {
			problem("%s: securityContext needs readOnlyRootFilesystem true and allowPrivilegeEscalation false", cw)
		}
		drop := list(sc, "capabilities", "drop")
		if len(drop) != 1 || drop[0] != "ALL" {
			problem("%s: capabilities.drop must be [ALL], is %v", cw, drop)
		}
		if get(c, "resources", "requests", "cpu") == nil || get(c, "resources", "requests", "memory") == nil {
			problem("%s: resources.requests.cpu and .memory required", cw)
		}
		ports := map[string]bool{}
		for _, p := range list(c, "ports") {
			ports[str(p, "name")] = true
			if n, ok := get(p, "containerPort").(int); !ok || n < 1 || n > 65535 {
				problem("%s: bad containerPort %v", cw, get(p, "containerPort"))
			}
		}
		checkProbes(c, cw, ports, values)
		mounts := map[string]string{}
		for _, m := range list(c, "volumeMounts") {
			mounts[str(m, "name")] = str(m, "mountPath")
			if !volumes[str(m, "name")] {
				problem("%s: volumeMount %q has no volume", cw, str(m, "name"))
			}
		}
		args := map[string]bool{}
		for _, a := range list(c, "args") {
			s, ok := a.(string)
			if !ok {
				problem("%s: arg %v is not a string", cw, a)
			}
			args[s] = true
		}
		if mounts["state"] == "" || !args["--storage.path="+mounts["state"]] {
			problem("%s: --storage.path must be the mount path of the state volume (%q)", cw, mounts["state"])
		}
		if mounts["config"] == "" || !args["--config.file="+mounts["config"]+"/config.yaml"] {
			problem("%s: --config.file must be config.yaml in the config volume", cw)
		}
		checkPathsMounted(c, cw, volumeByName, values)
		if str(o, "kind") == "StatefulSet" {
			n := fmt.Sprint(get(o, "spec", "replicas"))
			if !args["--shard.count="+n] || !args["--shard.index=auto"] {
				problem("%s: a StatefulSet of %s replicas needs --shard.count=%s and --shard.index=auto, args %v", cw, n, n, list(c, "args"))
			}
		} else {
			for a := range args {
				if strings.HasPrefix(a, "--shard.") {
					problem("%s: %s without sharding", cw, a)
				}
			}
		}
	}
	if str(o, "kind") == "StatefulSet" {
		svc := r.find("Service", str(o, "spec", "serviceName"))
		if svc == nil || str(svc, "spec", "clusterIP") != "None" {
			problem("%s: serviceName %q must be a rendered headless Service", where, str(o, "spec", "serviceName"))
		}
	}
	if str(o, "kind") == "Deployment" && fmt.Sprint(get(o, "spec", "replicas")) != "1" {
		problem("%s: an unsharded Deployment must have 1 replica, has %v", where, get(o, "spec", "replicas"))
	}
}

// The web config as the chart sees it: TLS, basic auth, required client certificates.
func webConfigSays(values object) (tls, auth, clientCert bool) {
	cfg, _ := get(values, "webConfig", "config").(object)
	if len(cfg) == 0 && str(values, "webConfig", "existingSecret") == "" {
		return false, false, false
	}
	tls = get(values, "webConfig", "tls") == true || cfg["tls_server_config"] != nil
	auth = get(values, "webConfig", "basicAuth") == true || cfg["basic_auth_users"] != nil
	cat := str(cfg, "tls_server_config", "client_auth_type")
	clientCert = tls && (get(values, "webConfig", "clientCertRequired") == true ||
		cat == "RequireAnyClientCert" || cat == "RequireAndVerifyClientCert")
	return
}

// Probes GET /-/healthy and /-/ready with the web config's scheme; when the kubelet cannot
// authenticate (basic auth without an Authorization header, or client certificates
// required) they only connect to the port.
func checkProbes(c interface{}, cw string, ports map[string]bool, values object) {
	tls, auth, clientCert := webConfigSays(values)
	hasAuthHeader := false
	for _, h := range list(values, "probes", "httpHeaders") {
		hasAuthHeader = hasAuthHeader || strings.EqualFold(str(h, "name"), "Authorization")
	}
	for probe, path := range map[string]string{"livenessProbe": "/-/healthy", "readinessProbe": "/-/ready"} {
		if clientCert || (auth && !hasAuthHeader) {
			if get(c, probe, "httpGet") != nil || str(c, probe, "tcpSocket", "port") != "http" {
				problem("%s: %s must be a TCP connection to port http: the kubelet cannot authenticate", cw, probe)
			}
			continue
		}
		if str(c, probe, "httpGet", "path") != path {
			problem("%s: %s must GET %s", cw, probe, path)
		}
		if port := str(c, probe, "httpGet", "port"); !ports[port] {
			problem("%s: %s port %q is not a container port name", cw, probe, port)
		}
		if want := map[bool]string{true: "HTTPS", false: "HTTP"}[tls]; str(c, probe, "httpGet", "scheme") != want {
			problem("%s: %s scheme %q, want %s", cw, probe, str(c, probe, "httpGet", "scheme"), want)
		}
	}
}

// Every absolute path the exporter is given (in its args, and the certificate files of an
// inline web config) must lie in a volume mounted into the container; a file named in args
// must be an item of the volume when the volume lists its items.
func checkPathsMounted(c interface{}, cw string, volumeByName map[string]object, values object) {
	type mount struct{ path, volume string }
	var mounts []mount
	for _, m := range list(c, "volumeMounts") {
		mounts = append(mounts, mount{str(m, "mountPath"), str(m, "name")})
	}
	inMount := func(p string) (mount, bool) {
		for _, m := range mounts {
			if p == m.path || strings.HasPrefix(p, strings.TrimSuffix(m.path, "/")+"/") {
				return m, true
			}
		}
		return mount{}, false
	}
	for _, a := range list(c, "args") {
		s, _ := a.(string)
		kv := strings.SplitN(s, "=", 2)
		if len(kv) != 2 || !strings.HasPrefix(kv[1], "/") {
			continue
		}
		m, ok := inMount(kv[1])
		if !ok {
			problem("%s: %s: %s is in no volume mount of the container", cw, kv[0], kv[1])
			continue
		}
		rel := strings.TrimPrefix(strings.TrimPrefix(kv[1], m.path), "/")
		vol := volumeByName[m.volume]
		for _, source := range []string{"secret", "configMap"} {
			items := list(vol, source, "items")
			if rel == "" || len(items) == 0 {
				continue
			}
			found := false
			for _, it := range items {
				found = found || str(it, "path") == rel
			}
			if !found {
				problem("%s: %s: %s is not an item of volume %s", cw, kv[0], kv[1], m.volume)
			}
		}
	}
	configPaths := list(values, "config", "resolver", "trust_anchor_files")
	if p := str(values, "config", "tlsrpt_receiver", "maildir"); p != "" {
		configPaths = append(configPaths, p)
	}
	for _, p := range configPaths {
		if s, _ := p.(string); strings.HasPrefix(s, "/") {
			if _, ok := inMount(s); !ok {
				problem("%s: config file %s is in no volume mount of the container", cw, s)
			}
		}
	}
	for _, key := range []string{"cert_file", "key_file", "client_ca_file"} {
		if p := str(values, "webConfig", "config", "tls_server_config", key); p != "" {
			if _, ok := inMount(p); !ok {
				problem("%s: web config %s %s is in no volume mount of the container", cw, key, p)
			}
		}
	}
}

func podLabelsOf(r *rendered) object {
	for _, k := range []string{"Deployment", "StatefulSet"} {
		for _, o := range r.byKind[k] {
			l, _ := get(o, "spec", "template", "metadata", "labels").(object)
			return l
		}
	}
	return nil
}

func checkService(r *rendered, o object, where string) {
	sel, _ := get(o, "spec", "selector").(object)
	if !subset(sel, podLabelsOf(r)) {
		problem("%s: selector %v selects no pods of the workload", where, sel)
	}
	for _, p := range list(o, "spec", "ports") {
		if str(p, "targetPort") != "http" || str(p, "name") == "" {
			problem("%s: port %v must be named and target the container port \"http\"", where, p)
		}
	}
}

func checkServiceMonitor(r *rendered, o object, where string) {
	ml, _ := get(o, "spec", "selector", "matchLabels").(object)
	selected := 0
	for _, svc := range r.byKind["Service"] {
		labels, _ := get(svc, "metadata", "labels").(object)
		if !subset(ml, labels) {
			continue
		}
		excluded := false
		for _, e := range list(o, "spec", "selector", "matchExpressions") {
			if str(e, "operator") == "DoesNotExist" && labels[str(e, "key")] != nil {
				excluded = true
			}
		}
		if !excluded {
			selected++
		}
	}
	if selected != 1 {
		problem("%s: selects %d Services, want exactly 1 (each pod scraped once)", where, selected)
	}
	if len(list(o, "spec", "endpoints")) == 0 || str(list(o, "spec", "endpoints")[0], "port") != "http" {
		problem("%s: endpoints must scrape port http", where)
	}
}

// checkPrometheusRule: with the chart's default prometheusRule values the spec is the rules
// file; otherwise each alert must carry the changes the values ask for: left out when
// disabled, `for`, severity (per alert or renamed), added labels, runbook base. Expressions
// must be the file's unless thresholds or the job selector differ from values.yaml's.
func checkPrometheusRule(o object, where, rulesFile string, values, defaults object) {
	src := readYAML(rulesFile)
	got, _ := get(o, "spec").(object)
	pr, _ := get(values, "prometheusRule").(object)
	prDefault, _ := get(defaults, "prometheusRule").(object)
	customised := false
	for _, k := range []string{"additionalAlertLabels", "severityMap", "runbookBaseUrl", "jobSelector", "thresholds", "alerts"} {
		customised = customised || !reflect.DeepEqual(pr[k], prDefault[k])
	}
	if !customised && !reflect.DeepEqual(src, got) {
		problem("%s: spec differs from %s (is files/mailtls.rules.yml still a symlink to it?)", where, rulesFile)
	}
	sameExprs := reflect.DeepEqual(pr["thresholds"], prDefault["thresholds"]) && pr["jobSelector"] == prDefault["jobSelector"]
	var rendered []interface{}
	for _, g := range list(got, "groups") {
		rendered = append(rendered, list(g, "rules")...)
	}
	i := 0
	for _, g := range list(src, "groups") {
		for _, r := range list(g, "rules") {
			name := str(r, "alert")
			cfg, _ := get(pr, "alerts", name).(object)
			if cfg["enabled"] == false {
				continue
			}
			if i >= len(rendered) || str(rendered[i], "alert") != name {
				problem("%s: rule %d should be %s", where, i, name)
				return
			}
			out := rendered[i].(object)
			i++
			wantFor := str(r, "for")
			if f, ok := cfg["for"].(string); ok {
				wantFor = f
			}
			if str(out, "for") != wantFor {
				problem("%s: %s for %q, want %q", where, name, str(out, "for"), wantFor)
			}
			labels := object{}
			for _, m := range []interface{}{get(r, "labels"), get(pr, "additionalAlertLabels"), cfg["labels"]} {
				mm, _ := m.(object)
				for k, v := range mm {
					labels[k] = v
				}
			}
			severity := str(r, "labels", "severity")
			if s := str(pr, "severityMap", severity); s != "" {
				labels["severity"] = s
			}
			if s, ok := cfg["severity"].(string); ok {
				labels["severity"] = s
			}
			if !reflect.DeepEqual(labels, get(out, "labels")) {
				problem("%s: %s labels %v, want %v", where, name, get(out, "labels"), labels)
			}
			runbook := str(r, "annotations", "runbook_url")
			if base := str(pr, "runbookBaseUrl"); base != "" {
				runbook = strings.TrimSuffix(base, "/") + "/" + runbook
			}
			if str(out, "annotations", "runbook_url") != runbook {
				problem("%s: %s runbook_url %q, want %q", where, name, str(out, "annotations", "runbook_url"), runbook)
			}
			if sameExprs && str(out, "expr") != str(r, "expr") {
				problem("%s: %s expr differs from %s", where, name, rulesFile)
			}
		}
	}
	if i != len(rendered) {
		problem("%s: %d rules rendered, %d expected", where, len(rendered), i)
	}
	if len(list(got, "groups")) == 0 {
		problem("%s: no rule groups", where)
	}
}

func checkDashboards(r *rendered, dashboardsDir string) {
	seen := 0
	for _, cm := range r.byKind["ConfigMap"] {
		if str(cm, "metadata", "labels", "grafana_dashboard") == "" {
			continue
		}
		where := "ConfigMap " + str(cm, "metadata", "name")
		if str(cm, "metadata", "labels", "grafana_dashboard") != "1" {
			problem("%s: label grafana_dashboard must be \"1\"", where)
		}
		d, _ := get(cm, "data").(object)
		for file, content := range d {
			seen++
			raw, err := os.ReadFile(filepath.Join(dashboardsDir, file))
			if err != nil {
				problem("%s: %s is not a dashboard of %s", where, file, dashboardsDir)
				continue
			}
			if strings.TrimRight(string(raw), "\n") != strings.TrimRight(fmt.Sprint(content), "\n") {
				problem("%s: %s differs from %s/%s (symlink broken?)", where, file, dashboardsDir, file)
			}
			var js interface{}
			if json.Unmarshal([]byte(fmt.Sprint(content)), &js) != nil {
				problem("%s: %s is not JSON", where, file)
			}
		}
	}
	files, _ := filepath.Glob(filepath.Join(dashboardsDir, "*.json"))
	if seen != len(files) {
		problem("dashboards: %d ConfigMap entries for %d files in %s", seen, len(files), dashboardsDir)
	}
}

func writeJSON(path string, v interface{}) {
	raw, err := json.MarshalIndent(v, "", " ")
	if err != nil {
		fatal("%s: %v", path, err)
	}
	if err := os.WriteFile(path, raw, 0o644); err != nil {
		fatal("%v", err)
	}
}

// checkValuesDocumented: every key path of values.yaml (`a.b.c`) is named in backquotes in
// the README. A map named there as a whole needs no entry for its keys; a map that is not
// named needs one for each key.
func checkValuesDocumented(valuesFile, readmeFile string) {
	raw, err := os.ReadFile(readmeFile)
	if err != nil {
		fatal("%v", err)
	}
	doc := string(raw)
	var walk func(prefix string, m object)
	walk = func(prefix string, m object) {
		for k, v := range m {
			path := prefix + k
			named := strings.Contains(doc, "`"+path+"`")
			if sub, ok := v.(object); ok && len(sub) > 0 && !named {
				walk(path+".", sub)
			} else if !named {
				problem("%s: value %s is not documented", readmeFile, path)
			}
		}
	}
	walk("", readYAML(valuesFile))
}

func main() {
	chartDir := flag.String("chart", "", "chart directory")
	var overrides valueFiles
	flag.Var(&overrides, "values", "override values file (repeatable)")
	release := flag.String("release", "mailtls", "release name")
	namespace := flag.String("namespace", "monitoring", "release namespace")
	expectKinds := flag.String("expect-kinds", "", "exact kind counts, e.g. Deployment=1,Service=1")
	rulesFile := flag.String("rules", "", "alerts/mailtls.rules.yml, compared with a rendered PrometheusRule")
	dashboardsDir := flag.String("dashboards", "", "dashboards/, compared with rendered dashboard ConfigMaps")
	outDir := flag.String("out", "", "write the rendered manifests, objects.json, values.json, NOTES.txt here")
	readme := flag.String("readme", "", "check that this README names every key of values.yaml")
	flag.Parse()
	if *chartDir == "" {
		fatal("-chart required")
	}

	values := readYAML(filepath.Join(*chartDir, "values.yaml"))
	for _, f := range overrides {
		values = mergeValues(values, readYAML(f))
	}
	userValues := mergeValues(object{}, values)
	files, chart := render(*chartDir, values, *release, *namespace)
	values["_appVersion"] = chart["AppVersion"] // for the image check only, after rendering

	r := &rendered{byKind: map[string][]object{}}
	var all strings.Builder
	names := make([]string, 0, len(files))
	for n := range files {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, name := range names {
		text := files[name]
		if name == "NOTES.txt" {
			if *outDir != "" {
				_ = os.MkdirAll(*outDir, 0o755)
				_ = os.WriteFile(filepath.Join(*outDir, "NOTES.txt"), []byte(text), 0o644)
			}
			continue
		}
		all.WriteString("# Source: " + name + "\n" + text + "\n---\n")
		if strings.Contains(text, "%!") {
			problem("%s: printf formatting error in output", name)
		}
		dec := yaml.NewDecoder(strings.NewReader(text))
		for i := 0; ; i++ {
			var o object
			err := dec.Decode(&o)
			if err != nil {
				if err.Error() != "EOF" {
					problem("%s document %d: not YAML: %v", name, i, err)
				}
				break
			}
			if o == nil {
				continue
			}
			r.objs = append(r.objs, o)
			r.byKind[str(o, "kind")] = append(r.byKind[str(o, "kind")], o)
		}
	}
	if *outDir != "" {
		_ = os.MkdirAll(*outDir, 0o755)
		_ = os.WriteFile(filepath.Join(*outDir, "manifests.yaml"), []byte(all.String()), 0o644)
		writeJSON(filepath.Join(*outDir, "objects.json"), r.objs)
		writeJSON(filepath.Join(*outDir, "values.json"), userValues)
		for _, o := range r.byKind["PrometheusRule"] {
			_ = os.WriteFile(filepath.Join(*outDir, "prometheusrule.yml"), []byte(toYAML(get(o, "spec"))+"\n"), 0o644)
		}
	}

	seenNames := map[string]bool{}
	for _, o := range r.objs {
		where := str(o, "kind") + " " + str(o, "metadata", "name")
		if seenNames[where] {
			problem("%s: rendered twice", where)
		}
		seenNames[where] = true
		checkMetadata(o, where)
		switch str(o, "kind") {
		case "Deployment", "StatefulSet":
			checkWorkload(r, o, where, values)
		case "Service":
			checkService(r, o, where)
		case "ServiceMonitor":
			checkServiceMonitor(r, o, where)
			tls, _, _ := webConfigSays(values)
			want := map[bool]string{true: "https", false: "http"}[tls]
			if s := str(values, "serviceMonitor", "scheme"); s != "" {
				want = s
			}
			for _, e := range list(o, "spec", "endpoints") {
				if str(e, "scheme") != want {
					problem("%s: endpoint scheme %q, want %q (the web config's)", where, str(e, "scheme"), want)
				}
			}
		case "PrometheusRule":
			if *rulesFile != "" {
				checkPrometheusRule(o, where, *rulesFile, values, readYAML(filepath.Join(*chartDir, "values.yaml")))
			}
		case "ConfigMap":
			if cfg, ok := get(o, "data", "config.yaml").(string); ok {
				var parsed object
				if err := yaml.Unmarshal([]byte(cfg), &parsed); err != nil {
					problem("%s: config.yaml is not YAML: %v", where, err)
				} else if !reflect.DeepEqual(parsed, values["config"]) {
					problem("%s: config.yaml differs from .Values.config", where)
				}
			}
		case "PersistentVolumeClaim":
			if str(o, "spec", "resources", "requests", "storage") == "" || len(list(o, "spec", "accessModes")) == 0 {
				problem("%s: needs accessModes and a storage request", where)
			}
		}
	}
	if len(r.byKind["Deployment"])+len(r.byKind["StatefulSet"]) != 1 {
		problem("exactly one Deployment or StatefulSet expected, got %d + %d", len(r.byKind["Deployment"]), len(r.byKind["StatefulSet"]))
	}
	if *readme != "" {
		checkValuesDocumented(filepath.Join(*chartDir, "values.yaml"), *readme)
	}
	if *dashboardsDir != "" && get(values, "dashboards", "enabled") == true {
		checkDashboards(r, *dashboardsDir)
	}
	if *expectKinds != "" {
		want := map[string]int{}
		for _, kv := range strings.Split(*expectKinds, ",") {
			var k string
			var n int
			parts := strings.SplitN(kv, "=", 2)
			k = parts[0]
			fmt.Sscan(parts[1], &n)
			want[k] = n
		}
		for k := range r.byKind {
			if _, ok := want[k]; !ok {
				want[k] = 0
			}
		}
		for k, n := range want {
			if len(r.byKind[k]) != n {
				problem("expected %d %s, rendered %d", n, k, len(r.byKind[k]))
			}
		}
	}

	fmt.Printf("rendered %d objects from %d templates", len(r.objs), len(files))
	for _, f := range overrides {
		fmt.Printf(" (values %s)", filepath.Base(f))
	}
	fmt.Println()
	for _, p := range problems {
		fmt.Println("  PROBLEM:", p)
	}
	if len(problems) > 0 {
		os.Exit(1)
	}
}
