{{/* Names and labels shared by every template. */}}

{{- define "gantry.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{- define "gantry.fullname" -}}
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

{{- define "gantry.selectorLabels" -}}
app.kubernetes.io/name: {{ include "gantry.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{- define "gantry.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{ include "gantry.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: gantry
{{- end }}

{{- define "gantry.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- default (include "gantry.fullname" .) .Values.serviceAccount.name }}
{{- else }}
{{- required "serviceAccount.name is required when serviceAccount.create is false" .Values.serviceAccount.name }}
{{- end }}
{{- end }}

{{- define "gantry.leaseNamespace" -}}
{{- default .Release.Namespace .Values.leaderElection.namespace }}
{{- end }}

{{/*
What the operator itself reads and writes in the namespaces it watches, found by reading its
controllers (operator/reconcilers, operator/rollout, operator/analysis, operator/kube): its own
resources, the ReplicaSets, Services and routes a Rollout drives, the Jobs of the job analysis
provider, Secrets read for Git credentials and analysis args, and Events. Used in a ClusterRole
(all namespaces) or a Role (watchNamespace).
*/}}
{{- define "gantry.operatorRules" -}}
- apiGroups: [gantry.io]
  resources: [gitrepositories, applications, rollouts, analysisruns, analysistemplates]
  verbs: [get, list, watch, update, patch]
- apiGroups: [gantry.io]
  resources: [analysisruns]
  verbs: [create, delete]
- apiGroups: [gantry.io]
  resources:
    - gitrepositories/status
    - applications/status
    - rollouts/status
    - analysisruns/status
  verbs: [get, update, patch]
- apiGroups: [gantry.io]
  resources:
    - gitrepositories/finalizers
    - applications/finalizers
    - rollouts/finalizers
    - analysisruns/finalizers
  verbs: [update]
- apiGroups: [apps]
  resources: [replicasets]
  verbs: [get, list, watch, create, update, patch, delete]
- apiGroups: [""]
  resources: [services]
  verbs: [get, list, watch, update, patch]
- apiGroups: [""]
  resources: [pods]
  verbs: [get, list, watch]
- apiGroups: [""]
  resources: [secrets]
  verbs: [get]
- apiGroups: [networking.k8s.io]
  resources: [ingresses]
  verbs: [get, list, watch, create, update, patch, delete]
- apiGroups: [gateway.networking.k8s.io]
  resources: [httproutes]
  verbs: [get, list, watch, update, patch]
- apiGroups: [batch]
  resources: [jobs]
  verbs: [get, list, watch, create, delete]
- apiGroups: [""]
  resources: [events]
  verbs: [create, patch]
- apiGroups: [events.k8s.io]
  resources: [events]
  verbs: [create, patch]
{{- end }}
