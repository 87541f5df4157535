{{/* Chart name. */}}
{{- define "mailtls-exporter.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/*
Full name: <release>-<chart>, or the release name when it already contains the chart name.
Every object name derives from it, so it is a DNS-1035 label (what a Service name must be):
dots become dashes, a release name that starts with a digit goes after the chart name, and
it is cut at 63 characters. Helm accepts release names of up to 53 characters.
*/}}
{{- define "mailtls-exporter.fullname" -}}
{{- $full := "" }}
{{- if .Values.fullnameOverride }}
{{- $full = .Values.fullnameOverride }}
{{- else }}
{{- $name := default .Chart.Name .Values.nameOverride }}
{{- if contains $name .Release.Name }}
{{- $full = .Release.Name }}
{{- else if regexMatch "^[0-9]" .Release.Name }}
{{- $full = printf "%s-%s" $name .Release.Name }}
{{- else }}
{{- $full = printf "%s-%s" .Release.Name $name }}
{{- end }}
{{- end }}
{{- regexReplaceAll "-+$" ($full | lower | replace "." "-" | trunc 63) "" }}
{{- end }}

{{/*
Name of the StatefulSet: at most 52 characters, because the controller adds the label
controller-revision-hash=<name>-<hash of up to 10 characters> to every pod and a label
value has at most 63.
*/}}
{{- define "mailtls-exporter.statefulSetName" -}}
{{- regexReplaceAll "-+$" (include "mailtls-exporter.fullname" . | trunc 52) "" }}
{{- end }}

{{/* Name of the StatefulSet's headless Service: a DNS-1035 label of at most 63 characters. */}}
{{- define "mailtls-exporter.headlessName" -}}
{{- printf "%s-headless" (regexReplaceAll "-+$" (include "mailtls-exporter.fullname" . | trunc 54) "") }}
{{- end }}

{{- define "mailtls-exporter.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end }}

{{- define "mailtls-exporter.selectorLabels" -}}
app.kubernetes.io/name: {{ include "mailtls-exporter.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{- define "mailtls-exporter.labels" -}}
helm.sh/chart: {{ include "mailtls-exporter.chart" . }}
{{ include "mailtls-exporter.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- with .Values.commonLabels }}
{{ toYaml . }}
{{- end }}
{{- end }}

{{- define "mailtls-exporter.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- default (include "mailtls-exporter.fullname" .) .Values.serviceAccount.name }}
{{- else }}
{{- default "default" .Values.serviceAccount.name }}
{{- end }}
{{- end }}

{{- define "mailtls-exporter.configMapName" -}}
{{- default (include "mailtls-exporter.fullname" .) .Values.existingConfigMap }}
{{- end }}

{{- define "mailtls-exporter.image" -}}
{{- printf "%s:%s" (required "image.repository is required" .Values.image.repository) (default .Chart.AppVersion .Values.image.tag) }}
{{- end }}

{{/* Where the config ConfigMap is mounted; --config.file is config.yaml in it. */}}
{{- define "mailtls-exporter.configDir" -}}
/etc/mailtls_exporter/config
{{- end }}

{{/* "true" when the exporter gets a --web.config.file (from values or an existing Secret). */}}
{{- define "mailtls-exporter.webConfigEnabled" -}}
{{- if or .Values.webConfig.config .Values.webConfig.existingSecret }}true{{ end }}
{{- end }}

{{/* Name of the Secret holding web.yml. */}}
{{- define "mailtls-exporter.webConfigSecretName" -}}
{{- default (printf "%s-web-config" (include "mailtls-exporter.fullname" .)) .Values.webConfig.existingSecret }}
{{- end }}

{{/* "true" when the web config turns on TLS: tls_server_config in `config`, or webConfig.tls. */}}
{{- define "mailtls-exporter.tlsEnabled" -}}
{{- if include "mailtls-exporter.webConfigEnabled" . }}
{{- if or .Values.webConfig.tls (hasKey (.Values.webConfig.config | default dict) "tls_server_config") }}true{{ end }}
{{- end }}
{{- end }}

{{/* "true" when the web config turns on basic auth: basic_auth_users in `config`, or webConfig.basicAuth. */}}
{{- define "mailtls-exporter.basicAuthEnabled" -}}
{{- if include "mailtls-exporter.webConfigEnabled" . }}
{{- if or .Values.webConfig.basicAuth (hasKey (.Values.webConfig.config | default dict) "basic_auth_users") }}true{{ end }}
{{- end }}
{{- end }}

{{/* "true" when the web config requires client certificates (the kubelet has none). */}}
{{- define "mailtls-exporter.clientCertRequired" -}}
{{- if include "mailtls-exporter.tlsEnabled" . }}
{{- $tls := get (.Values.webConfig.config | default dict) "tls_server_config" | default dict }}
{{- if or .Values.webConfig.clientCertRequired (has (get $tls "client_auth_type" | default "") (list "RequireAnyClientCert" "RequireAndVerifyClientCert")) }}true{{ end }}
{{- end }}
{{- end }}

{{- define "mailtls-exporter.scheme" -}}
{{- if include "mailtls-exporter.tlsEnabled" . }}HTTPS{{ else }}HTTP{{ end }}
{{- end }}

{{/*
One health probe (liveness or readiness). The kubelet GETs /-/healthy or /-/ready with the
scheme of the web config (it does not verify the certificate). The exporter asks for basic
auth on every path, health included, and a kubelet has no client certificate: with basic
auth and no Authorization header in probes.httpHeaders, or with required client
certificates, the probe only opens a TCP connection to the port.
*/}}
{{- define "mailtls-exporter.probe" -}}
{{- $ctx := index . 0 }}
{{- $path := index . 1 }}
{{- $timing := index . 2 }}
{{- $hasAuthHeader := false }}
{{- range $ctx.Values.probes.httpHeaders }}
{{- if eq (lower .name) "authorization" }}{{ $hasAuthHeader = true }}{{ end }}
{{- end }}
{{- if or (include "mailtls-exporter.clientCertRequired" $ctx) (and (include "mailtls-exporter.basicAuthEnabled" $ctx) (not $hasAuthHeader)) }}
tcpSocket:
  port: http
{{- else }}
httpGet:
  path: {{ $path }}
  port: http
  scheme: {{ include "mailtls-exporter.scheme" $ctx }}
  {{- with $ctx.Values.probes.httpHeaders }}
  httpHeaders:
    {{- toYaml . | nindent 4 }}
  {{- end }}
{{- end }}
{{ toYaml $timing }}
{{- end }}

{{/*
The pod template shared by the Deployment and the StatefulSet. With sharding, every pod
gets --shard.count=N and --shard.index=auto: the exporter takes its shard from the
ordinal at the end of its host name (the StatefulSet pod name, e.g. ...-2 is shard 2).
*/}}
{{- define "mailtls-exporter.podTemplate" -}}
metadata:
  labels:
    {{- include "mailtls-exporter.selectorLabels" . | nindent 4 }}
    {{- with .Values.commonLabels }}
    {{- toYaml . | nindent 4 }}
    {{- end }}
    {{- with .Values.podLabels }}
    {{- toYaml . | nindent 4 }}
    {{- end }}
  {{- $annotations := dict }}
  {{- if not .Values.existingConfigMap }}
  {{- $_ := set $annotations "checksum/config" (toYaml .Values.config | sha256sum) }}
  {{- else if .Values.configReload.checksum }}
  {{- $_ := set $annotations "checksum/config" (toString .Values.configReload.checksum) }}
  {{- end }}
  {{- if and .Values.webConfig.config (not .Values.webConfig.existingSecret) }}
  {{- $_ := set $annotations "checksum/web-config" (toYaml .Values.webConfig.config | sha256sum) }}
  {{- end }}
  {{- with merge $annotations (.Values.podAnnotations | default dict) }}
  annotations:
    {{- toYaml . | nindent 4 }}
  {{- end }}
spec:
  serviceAccountName: {{ include "mailtls-exporter.serviceAccountName" . }}
  automountServiceAccountToken: {{ .Values.serviceAccount.automountServiceAccountToken }}
  {{- with .Values.imagePullSecrets }}
  imagePullSecrets:
    {{- toYaml . | nindent 4 }}
  {{- end }}
  {{- with .Values.priorityClassName }}
  priorityClassName: {{ . | quote }}
  {{- end }}
  {{- with .Values.dnsPolicy }}
  dnsPolicy: {{ . }}
  {{- end }}
  {{- with .Values.dnsConfig }}
  dnsConfig:
    {{- toYaml . | nindent 4 }}
  {{- end }}
  securityContext:
    {{- toYaml .Values.podSecurityContext | nindent 4 }}
  containers:
    - name: exporter
      image: {{ include "mailtls-exporter.image" . | quote }}
      imagePullPolicy: {{ .Values.image.pullPolicy }}
      args:
        - --config.file={{ include "mailtls-exporter.configDir" . }}/config.yaml
        {{- with .Values.configReload.watchInterval }}
        - --config.watch-interval={{ . }}
        {{- end }}
        - --web.listen-address=:{{ .Values.exporter.port }}
        {{- if include "mailtls-exporter.webConfigEnabled" . }}
        - --web.config.file={{ .Values.webConfig.mountPath }}/web.yml
        {{- end }}
        - --storage.path={{ .Values.persistence.mountPath }}
        - --log.level={{ .Values.exporter.logLevel }}
        - --log.format={{ .Values.exporter.logFormat }}
        {{- if .Values.sharding.enabled }}
        - --shard.count={{ .Values.sharding.replicas }}
        - --shard.index=auto
        {{- end }}
        {{- range .Values.exporter.extraArgs }}
        - {{ . | quote }}
        {{- end }}
      {{- with .Values.env }}
      env:
        {{- toYaml . | nindent 8 }}
      {{- end }}
      ports:
        - name: http
          containerPort: {{ .Values.exporter.port }}
          protocol: TCP
      livenessProbe:
        {{- include "mailtls-exporter.probe" (list . "/-/healthy" .Values.livenessProbe) | trim | nindent 8 }}
      readinessProbe:
        {{- include "mailtls-exporter.probe" (list . "/-/ready" .Values.readinessProbe) | trim | nindent 8 }}
      securityContext:
        {{- toYaml .Values.securityContext | nindent 8 }}
      resources:
        {{- toYaml .Values.resources | nindent 8 }}
      volumeMounts:
        - name: config
          mountPath: {{ include "mailtls-exporter.configDir" . }}
          readOnly: true
        {{- if include "mailtls-exporter.webConfigEnabled" . }}
        - name: web-config
          mountPath: {{ .Values.webConfig.mountPath }}
          readOnly: true
        {{- end }}
        - name: state
          mountPath: {{ .Values.persistence.mountPath }}
        - name: tmp
          mountPath: /tmp
        {{- range .Values.secretMounts }}
        - name: {{ .name }}
          mountPath: {{ .mountPath }}
          readOnly: true
        {{- end }}
        {{- with .Values.extraVolumeMounts }}
        {{- toYaml . | nindent 8 }}
        {{- end }}
  volumes:
    - name: config
      configMap:
        name: {{ include "mailtls-exporter.configMapName" . }}
    {{- if include "mailtls-exporter.webConfigEnabled" . }}
    - name: web-config
      secret:
        secretName: {{ include "mailtls-exporter.webConfigSecretName" . }}
        items:
          - key: {{ if .Values.webConfig.existingSecret }}{{ .Values.webConfig.existingSecretKey }}{{ else }}web.yml{{ end }}
            path: web.yml
    {{- end }}
    - name: tmp
      emptyDir: {}
    {{- if not .Values.sharding.enabled }}
    - name: state
      {{- if .Values.persistence.enabled }}
      persistentVolumeClaim:
        claimName: {{ default (include "mailtls-exporter.fullname" .) .Values.persistence.existingClaim }}
      {{- else }}
      emptyDir: {}
      {{- end }}
    {{- else if not .Values.persistence.enabled }}
    - name: state
      emptyDir: {}
    {{- end }}
    {{- range .Values.secretMounts }}
    - name: {{ .name }}
      secret:
        secretName: {{ .secretName }}
        {{- with .items }}
        items:
          {{- toYaml . | nindent 10 }}
        {{- end }}
        {{- if hasKey . "defaultMode" }}
        defaultMode: {{ .defaultMode }}
        {{- end }}
    {{- end }}
    {{- with .Values.extraVolumes }}
    {{- toYaml . | nindent 4 }}
    {{- end }}
  {{- with .Values.nodeSelector }}
  nodeSelector:
    {{- toYaml . | nindent 4 }}
  {{- end }}
  {{- with .Values.affinity }}
  affinity:
    {{- toYaml . | nindent 4 }}
  {{- end }}
  {{- with .Values.tolerations }}
  tolerations:
    {{- toYaml . | nindent 4 }}
  {{- end }}
  {{- with .Values.topologySpreadConstraints }}
  # a constraint without a labelSelector counts this release's pods
  {{- $selector := dict "labelSelector" (dict "matchLabels" (include "mailtls-exporter.selectorLabels" $ | fromYaml)) }}
  topologySpreadConstraints:
    {{- range . }}
    - {{- toYaml (merge (dict) . $selector) | nindent 6 }}
    {{- end }}
  {{- end }}
{{- end }}
