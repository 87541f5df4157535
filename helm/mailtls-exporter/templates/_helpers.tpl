{{/* Chart name. */}}
{{- define "mailtls-exporter.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* Full name: <release>-<chart>, or the release name when it already contains the chart name. */}}
{{- define "mailtls-exporter.fullname" -}}
{{- if .Values.fullnameOverride }}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- $name := default .Chart.Name .Values.nameOverride }}
{{- if contains $name .Release.Name }}
{{- .Release.Name | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" }}
{{- end }}
{{- end }}
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

{{/*
The pod template shared by the Deployment and the StatefulSet. With sharding, every pod
gets --shard.count=N and --shard.index=auto: the exporter takes its shard from the
ordinal at the end of its host name (the StatefulSet pod name, e.g. ...-2 is shard 2).
*/}}
{{- define "mailtls-exporter.podTemplate" -}}
metadata:
  labels:
    {{- include "mailtls-exporter.selectorLabels" . | nindent 4 }}
    {{- with .Values.podLabels }}
    {{- toYaml . | nindent 4 }}
    {{- end }}
  annotations:
    {{- if not .Values.existingConfigMap }}
    checksum/config: {{ toYaml .Values.config | sha256sum }}
    {{- end }}
    {{- with .Values.podAnnotations }}
    {{- toYaml . | nindent 4 }}
    {{- end }}
spec:
  serviceAccountName: {{ include "mailtls-exporter.serviceAccountName" . }}
  automountServiceAccountToken: {{ .Values.serviceAccount.automountServiceAccountToken }}
  {{- with .Values.imagePullSecrets }}
  imagePullSecrets:
    {{- toYaml . | nindent 4 }}
  {{- end }}
  securityContext:
    {{- toYaml .Values.podSecurityContext | nindent 4 }}
  containers:
    - name: exporter
      image: {{ include "mailtls-exporter.image" . | quote }}
      imagePullPolicy: {{ .Values.image.pullPolicy }}
      args:
        - --config.file=/etc/mailtls_exporter/config.yaml
        - --web.listen-address=:{{ .Values.exporter.port }}
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
        httpGet:
          path: /-/healthy
          port: http
        {{- toYaml .Values.livenessProbe | nindent 8 }}
      readinessProbe:
        httpGet:
          path: /-/ready
          port: http
        {{- toYaml .Values.readinessProbe | nindent 8 }}
      securityContext:
        {{- toYaml .Values.securityContext | nindent 8 }}
      resources:
        {{- toYaml .Values.resources | nindent 8 }}
      volumeMounts:
        - name: config
          mountPath: /etc/mailtls_exporter
          readOnly: true
        - name: state
          mountPath: {{ .Values.persistence.mountPath }}
        - name: tmp
          mountPath: /tmp
  volumes:
    - name: config
      configMap:
        name: {{ include "mailtls-exporter.configMapName" . }}
    - name: tmp
      emptyDir: {}
    {{- if not .Values.sharding.enabled }}
    - name: state
      {{- if and .Values.persistence.enabled }}
      persistentVolumeClaim:
        claimName: {{ default (include "mailtls-exporter.fullname" .) .Values.persistence.existingClaim }}
      {{- else }}
      emptyDir: {}
      {{- end }}
    {{- else if not .Values.persistence.enabled }}
    - name: state
      emptyDir: {}
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
{{- end }}
