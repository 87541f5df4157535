// helmrender renders a Helm chart the way `helm template` does, for the subset of Helm the
// mailtls-exporter chart uses (Go text/template + sprig, .Values merged from values.yaml and
// override files, .Release, .Chart, .Capabilities, .Files.Get, include, tpl, toYaml,
// fromYaml, required), then validates the rendered objects with structural checks of the
// Kubernetes fields that matter (no Kubernetes schema validator is available offline).
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
		if strings.HasPrefix(name, "_") || name == "NOTES.txt" {
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
var labelValue = regexp.MustCompile(`^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$`)

var apiVersionOf = map[string]string{
	"Deployment": "apps/v1", "StatefulSet": "apps/v1", "Service": "v1", "ConfigMap": "v1",
	"PersistentVolumeClaim": "v1", "ServiceAccount": "v1",
	"ServiceMonitor": "monitoring.coreos.com/v1", "PrometheusRule": "monitoring.coreos.com/v1",
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
	if (kind == "Service" || kind == "StatefulSet") && len(name) > 63 {
		problem("%s: name longer than 63", where)
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
	allowed := map[string]bool{"apiVersion": true, "kind": true, "metadata": true, "spec": true, "data": true, "automountServiceAccountToken": true}
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
	for _, v := range list(pod, "volumes") {
		vm := v.(object)
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
		if claim := str(vm, "persistentVolumeClaim", "claimName"); claim != "" && str(values, "persistence", "existingClaim") == "" && r.find("PersistentVolumeClaim", claim) == nil {
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
		for probe, path := range map[string]string{"livenessProbe": "/-/healthy", "readinessProbe": "/-/ready"} {
			if str(c, probe, "httpGet", "path") != path {
				problem("%s: %s must GET %s", cw, probe, path)
			}
			if port := str(c, probe, "httpGet", "port"); !ports[port] {
				problem("%s: %s port %q is not a container port name", cw, probe, port)
			}
		}
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

func checkPrometheusRule(o object, where, rulesFile string) {
	want := readYAML(rulesFile)
	got, _ := get(o, "spec").(object)
	if !reflect.DeepEqual(want, got) {
		problem("%s: spec differs from %s (is files/mailtls.rules.yml still a symlink to it?)", where, rulesFile)
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

func main() {
	chartDir := flag.String("chart", "", "chart directory")
	var overrides valueFiles
	flag.Var(&overrides, "values", "override values file (repeatable)")
	release := flag.String("release", "mailtls", "release name")
	namespace := flag.String("namespace", "monitoring", "release namespace")
	expectKinds := flag.String("expect-kinds", "", "exact kind counts, e.g. Deployment=1,Service=1")
	rulesFile := flag.String("rules", "", "alerts/mailtls.rules.yml, compared with a rendered PrometheusRule")
	dashboardsDir := flag.String("dashboards", "", "dashboards/, compared with rendered dashboard ConfigMaps")
	outDir := flag.String("out", "", "write the rendered manifests here")
	flag.Parse()
	if *chartDir == "" {
		fatal("-chart required")
	}

	values := readYAML(filepath.Join(*chartDir, "values.yaml"))
	for _, f := range overrides {
		values = mergeValues(values, readYAML(f))
	}
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
		case "PrometheusRule":
			if *rulesFile != "" {
				checkPrometheusRule(o, where, *rulesFile)
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
