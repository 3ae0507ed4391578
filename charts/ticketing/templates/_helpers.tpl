{{/* vim: set filetype=mustache: */}}

{{/* Chart name, overridable with nameOverride. */}}
{{- define "ticketing.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/*
Fully qualified app name (63 chars max, DNS label). If the release name already contains the
chart name it is used as is.
*/}}
{{- define "ticketing.fullname" -}}
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

{{/* chart label: name-version */}}
{{- define "ticketing.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* Selector labels. Call with (dict "root" $ "component" "api"). */}}
{{- define "ticketing.selectorLabels" -}}
app.kubernetes.io/name: {{ include "ticketing.name" .root }}
app.kubernetes.io/instance: {{ .root.Release.Name }}
{{- with .component }}
app.kubernetes.io/component: {{ . }}
{{- end }}
{{- end }}

{{/* Common labels. Call with (dict "root" $ "component" "api"). */}}
{{- define "ticketing.labels" -}}
helm.sh/chart: {{ include "ticketing.chart" .root }}
{{ include "ticketing.selectorLabels" . }}
app.kubernetes.io/version: {{ (default .root.Chart.AppVersion .root.Values.image.tag) | toString | trunc 63 | trimSuffix "-" | quote }}
app.kubernetes.io/managed-by: {{ .root.Release.Service }}
app.kubernetes.io/part-of: ticketing
{{- with .root.Values.commonLabels }}
{{ toYaml . }}
{{- end }}
{{- end }}

{{/* Name of a component's objects: <fullname>-<component>. */}}
{{- define "ticketing.componentName" -}}
{{- printf "%s-%s" (include "ticketing.fullname" .root) .component | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* The application image. */}}
{{- define "ticketing.image" -}}
{{- printf "%s:%s" .Values.image.repository (default .Chart.AppVersion .Values.image.tag | toString) }}
{{- end }}

{{/* ServiceAccount of api/writer/projector. */}}
{{- define "ticketing.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- default (include "ticketing.fullname" .) .Values.serviceAccount.name }}
{{- else }}
{{- default "default" .Values.serviceAccount.name }}
{{- end }}
{{- end }}

{{/* ServiceAccount of the controller. */}}
{{- define "ticketing.controllerServiceAccountName" -}}
{{- if .Values.controller.serviceAccount.create }}
{{- default (include "ticketing.componentName" (dict "root" . "component" "controller")) .Values.controller.serviceAccount.name }}
{{- else }}
{{- default "default" .Values.controller.serviceAccount.name }}
{{- end }}
{{- end }}

{{/* Name of the Secret holding ADMIN_TOKEN and MYSQL_URL. */}}
{{- define "ticketing.secretName" -}}
{{- if .Values.secret.existingSecret }}
{{- .Values.secret.existingSecret }}
{{- else }}
{{- include "ticketing.fullname" . }}
{{- end }}
{{- end }}

{{/* ---- Endpoints: in-cluster service when enabled, else the external value ---- */}}

{{- define "ticketing.redisUrl" -}}
{{- if .Values.redis.enabled }}
{{- printf "redis://%s:6379" (include "ticketing.componentName" (dict "root" . "component" "redis")) }}
{{- else }}
{{- required "redis.url is required when redis.enabled is false" .Values.redis.url }}
{{- end }}
{{- end }}

{{/* Pod addresses of an in-cluster StatefulSet behind its headless Service: (dict "root" $ "component" "kafka" "count" 3 "port" 9092). */}}
{{- define "ticketing.podAddresses" -}}
{{- $name := include "ticketing.componentName" (dict "root" .root "component" .component) }}
{{- $out := list }}
{{- range $i := until (int .count) }}
{{- $out = append $out (printf "%s-%d.%s-headless.%s.svc:%d" $name $i $name $.root.Release.Namespace (int $.port)) }}
{{- end }}
{{- join "," $out }}
{{- end }}

{{/* Pods of the in-cluster Redis Cluster: masters × (1 + replicasPerMaster). */}}
{{- define "ticketing.redisClusterPods" -}}
{{- mul (int .Values.redis.cluster.masters) (add1 (int .Values.redis.cluster.replicasPerMaster)) }}
{{- end }}

{{/* REDIS_CLUSTER_NODES: empty (one Redis, REDIS_URL), the in-cluster pods, or the external nodes. */}}
{{- define "ticketing.redisClusterNodes" -}}
{{- if .Values.redis.cluster.enabled }}
{{- if .Values.redis.enabled }}
{{- include "ticketing.podAddresses" (dict "root" . "component" "redis" "count" (include "ticketing.redisClusterPods" .) "port" 6379) }}
{{- else }}
{{- required "redis.cluster.nodes (host:port,…) is required for an external Redis Cluster (redis.cluster.enabled true, redis.enabled false)" .Values.redis.cluster.nodes }}
{{- end }}
{{- end }}
{{- end }}

{{- define "ticketing.kafkaBrokers" -}}
{{- if and .Values.kafka.enabled (gt (int .Values.kafka.replicas) 1) }}
{{- include "ticketing.podAddresses" (dict "root" . "component" "kafka" "count" .Values.kafka.replicas "port" 9092) }}
{{- else if .Values.kafka.enabled }}
{{- printf "%s:9092" (include "ticketing.componentName" (dict "root" . "component" "kafka")) }}
{{- else }}
{{- required "kafka.brokers is required when kafka.enabled is false" .Values.kafka.brokers }}
{{- end }}
{{- end }}

{{- define "ticketing.mysqlUrl" -}}
{{- if .Values.mysql.enabled }}
{{- $pw := required "mysql.rootPassword is required when mysql.enabled is true" .Values.mysql.rootPassword }}
{{- printf "mysql://root:%s@%s:3306/%s" (urlquery $pw) (include "ticketing.componentName" (dict "root" . "component" "mysql")) .Values.mysql.database }}
{{- else }}
{{- required "mysql.url is required when mysql.enabled is false" .Values.mysql.url }}
{{- end }}
{{- end }}

{{- define "ticketing.dynamodbEndpoint" -}}
{{- if .Values.dynamodb.enabled }}
{{- printf "http://%s:8000" (include "ticketing.componentName" (dict "root" . "component" "dynamodb")) }}
{{- else }}
{{- .Values.dynamodb.endpoint }}
{{- end }}
{{- end }}

{{/* Pod-level annotations that roll the pods when config or secret change. */}}
{{- define "ticketing.configChecksums" -}}
checksum/config: {{ include (print .Template.BasePath "/configmap.yaml") . | sha256sum }}
{{- if .Values.secret.create }}
checksum/secret: {{ include (print .Template.BasePath "/secret.yaml") . | sha256sum }}
{{- end }}
{{- end }}

{{/* /tmp emptyDir volume of the app pods. */}}
{{- define "ticketing.tmpVolume" -}}
- name: tmp
  emptyDir:
    sizeLimit: {{ .Values.tmpSizeLimit }}
{{- end }}

{{/*
Deployment of one app role. Call with
(dict "root" $ "component" "writer" "values" .Values.writer "port" 9464 "portName" "metrics").
*/}}
{{- define "ticketing.deployment" -}}
{{- $root := .root -}}
{{- $v := .values -}}
apiVersion: apps/v1
kind: Deployment
metadata:
  name: {{ include "ticketing.componentName" . }}
  namespace: {{ $root.Release.Namespace }}
  labels:
    {{- include "ticketing.labels" . | nindent 4 }}
spec:
  {{- if not (and (eq .component "api") $v.autoscaling.enabled) }}
  replicas: {{ $v.replicas }}
  {{- end }}
  revisionHistoryLimit: 5
  selector:
    matchLabels:
      {{- include "ticketing.selectorLabels" . | nindent 6 }}
  strategy:
    type: RollingUpdate
    rollingUpdate:
      maxSurge: 25%
      maxUnavailable: 0
  template:
    metadata:
      labels:
        {{- include "ticketing.labels" . | nindent 8 }}
        {{- with $root.Values.podLabels }}
        {{- toYaml . | nindent 8 }}
        {{- end }}
      annotations:
        {{- include "ticketing.configChecksums" $root | nindent 8 }}
        {{- with $root.Values.podAnnotations }}
        {{- toYaml . | nindent 8 }}
        {{- end }}
    spec:
      {{- if eq .component "controller" }}
      serviceAccountName: {{ include "ticketing.controllerServiceAccountName" $root }}
      automountServiceAccountToken: true
      {{- else }}
      serviceAccountName: {{ include "ticketing.serviceAccountName" $root }}
      automountServiceAccountToken: false
      {{- end }}
      {{- with $root.Values.imagePullSecrets }}
      imagePullSecrets:
        {{- toYaml . | nindent 8 }}
      {{- end }}
      securityContext:
        {{- toYaml $root.Values.podSecurityContext | nindent 8 }}
      terminationGracePeriodSeconds: {{ $root.Values.terminationGracePeriodSeconds }}
      enableServiceLinks: false
      containers:
        - name: {{ .component }}
          image: {{ include "ticketing.image" $root | quote }}
          imagePullPolicy: {{ $root.Values.image.pullPolicy }}
          args: [{{ .component | quote }}]
          envFrom:
            - configMapRef:
                name: {{ include "ticketing.fullname" $root }}
            - secretRef:
                name: {{ include "ticketing.secretName" $root }}
          env:
            - name: ROLE
              value: {{ .component | quote }}
            - name: POD_NAME
              valueFrom:
                fieldRef:
                  fieldPath: metadata.name
            - name: POD_NAMESPACE
              valueFrom:
                fieldRef:
                  fieldPath: metadata.namespace
            {{- if eq .component "controller" }}
            {{- $le := $root.Values.controller.leaderElection }}
            - name: LEADER_ELECTION
              value: {{ $le.enabled | quote }}
            - name: LEADER_ELECTION_NAMESPACE
              valueFrom:
                fieldRef:
                  fieldPath: metadata.namespace
            - name: LEADER_ELECTION_LEASE_NAME
              value: {{ default (include "ticketing.componentName" .) $le.leaseName | quote }}
            - name: LEADER_ELECTION_LEASE_DURATION_SECONDS
              value: {{ $le.leaseDurationSeconds | quote }}
            - name: LEADER_ELECTION_RENEW_DEADLINE_SECONDS
              value: {{ $le.renewDeadlineSeconds | quote }}
            - name: LEADER_ELECTION_RETRY_PERIOD_SECONDS
              value: {{ $le.retryPeriodSeconds | quote }}
            {{- end }}
          ports:
            - name: {{ .portName }}
              containerPort: {{ .port }}
              protocol: TCP
          {{- if and (eq .component "api") $v.preStopSleepSeconds }}
          # Kubernetes removes the pod from the Service while it is already being stopped: wait
          # before SIGTERM, so no request reaches a closed server (then SHUTDOWN_DRAIN_MS).
          lifecycle:
            preStop:
              exec:
                command: ["sleep", {{ $v.preStopSleepSeconds | quote }}]
          {{- end }}
          startupProbe:
            httpGet:
              path: /healthz
              port: {{ .portName }}
            periodSeconds: {{ $root.Values.probes.startup.periodSeconds }}
            failureThreshold: {{ $root.Values.probes.startup.failureThreshold }}
            timeoutSeconds: {{ $root.Values.probes.startup.timeoutSeconds }}
          livenessProbe:
            httpGet:
              path: /healthz
              port: {{ .portName }}
            periodSeconds: {{ $root.Values.probes.liveness.periodSeconds }}
            failureThreshold: {{ $root.Values.probes.liveness.failureThreshold }}
            timeoutSeconds: {{ $root.Values.probes.liveness.timeoutSeconds }}
          readinessProbe:
            httpGet:
              path: /readyz
              port: {{ .portName }}
            periodSeconds: {{ $root.Values.probes.readiness.periodSeconds }}
            failureThreshold: {{ $root.Values.probes.readiness.failureThreshold }}
            timeoutSeconds: {{ $root.Values.probes.readiness.timeoutSeconds }}
          resources:
            {{- toYaml $v.resources | nindent 12 }}
          securityContext:
            {{- toYaml $root.Values.securityContext | nindent 12 }}
          volumeMounts:
            - name: tmp
              mountPath: /tmp
      volumes:
        {{- include "ticketing.tmpVolume" $root | nindent 8 }}
      {{- with $root.Values.nodeSelector }}
      nodeSelector:
        {{- toYaml . | nindent 8 }}
      {{- end }}
      {{- with $root.Values.affinity }}
      affinity:
        {{- toYaml . | nindent 8 }}
      {{- end }}
      {{- with $root.Values.tolerations }}
      tolerations:
        {{- toYaml . | nindent 8 }}
      {{- end }}
      {{- if $root.Values.topologySpreadConstraints }}
      topologySpreadConstraints:
        {{- range $root.Values.topologySpreadConstraints }}
        - {{- toYaml (omit . "labelSelector") | nindent 10 }}
          labelSelector:
            matchLabels:
              {{- include "ticketing.selectorLabels" (dict "root" $root "component" $.component) | nindent 14 }}
        {{- end }}
      {{- end }}
{{- end }}

{{/* PodDisruptionBudget of one component (same call as ticketing.deployment). */}}
{{- define "ticketing.pdb" -}}
{{- if .values.pdb.enabled }}
apiVersion: policy/v1
kind: PodDisruptionBudget
metadata:
  name: {{ include "ticketing.componentName" . }}
  namespace: {{ .root.Release.Namespace }}
  labels:
    {{- include "ticketing.labels" . | nindent 4 }}
spec:
  maxUnavailable: {{ .values.pdb.maxUnavailable }}
  selector:
    matchLabels:
      {{- include "ticketing.selectorLabels" . | nindent 6 }}
{{- end }}
{{- end }}

{{/* Metrics Service (port 9464) of a non-api role (same call as ticketing.deployment). */}}
{{- define "ticketing.metricsService" -}}
apiVersion: v1
kind: Service
metadata:
  name: {{ include "ticketing.componentName" . }}
  namespace: {{ .root.Release.Namespace }}
  labels:
    {{- include "ticketing.labels" . | nindent 4 }}
    ticketing.dev/metrics: "true"
spec:
  type: ClusterIP
  selector:
    {{- include "ticketing.selectorLabels" . | nindent 4 }}
  ports:
    - name: metrics
      port: {{ .root.Values.metrics.port }}
      targetPort: metrics
      protocol: TCP
{{- end }}
