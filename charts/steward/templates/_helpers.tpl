{{/* The release's full name, used for every object (63 characters at most). */}}
{{- define "steward.fullname" -}}
{{- if contains .Chart.Name .Release.Name -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name .Chart.Name | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}

{{/* Labels of every object. */}}
{{- define "steward.labels" -}}
app.kubernetes.io/name: {{ .Chart.Name }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: steward
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" }}
{{- end -}}

{{/* The manager pods' selector. */}}
{{- define "steward.selectorLabels" -}}
app.kubernetes.io/name: {{ .Chart.Name }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/component: manager
{{- end -}}

{{- define "steward.serviceAccountName" -}}
{{- default (include "steward.fullname" .) .Values.serviceAccount.name -}}
{{- end -}}

{{/* The namespaces a namespaced install grants rights in: manager.watchNamespaces, required. */}}
{{- define "steward.rbacNamespaces" -}}
{{- if and (eq .Values.rbac.scope "namespaced") (empty .Values.manager.watchNamespaces) -}}
{{- fail "rbac.scope=namespaced needs manager.watchNamespaces: the namespaces to grant the operator rights in" -}}
{{- end -}}
{{- join "," .Values.manager.watchNamespaces -}}
{{- end -}}

{{/* The rules of manifests/rbac/role.yaml (files/manager-role.yaml links to it). */}}
{{- define "steward.managerRules" -}}
{{- (.Files.Get "files/manager-role.yaml" | fromYaml).rules | toYaml -}}
{{- end -}}

{{/* The tenant policy's YAML: tenantPolicy.policy, else the manifests' file. */}}
{{- define "steward.tenantPolicy" -}}
{{- if .Values.tenantPolicy.policy -}}
{{- if kindIs "string" .Values.tenantPolicy.policy -}}
{{- .Values.tenantPolicy.policy -}}
{{- else -}}
{{- toYaml .Values.tenantPolicy.policy -}}
{{- end -}}
{{- else -}}
{{- .Files.Get "files/tenant-policy.yaml" -}}
{{- end -}}
{{- end -}}
