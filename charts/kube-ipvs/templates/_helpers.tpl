{{/* Names, labels and the parsing of the config's bind addresses. */}}

{{- define "kube-ipvs.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "kube-ipvs.fullname" -}}
{{- if .Values.fullnameOverride -}}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- $name := default .Chart.Name .Values.nameOverride -}}
{{- if contains $name .Release.Name -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}
{{- end -}}

{{- define "kube-ipvs.selectorLabels" -}}
app.kubernetes.io/name: {{ include "kube-ipvs.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}

{{- define "kube-ipvs.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{ include "kube-ipvs.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end -}}

{{- define "kube-ipvs.serviceAccountName" -}}
{{- if .Values.serviceAccount.create -}}
{{- default (include "kube-ipvs.fullname" .) .Values.serviceAccount.name -}}
{{- else -}}
{{- default "default" .Values.serviceAccount.name -}}
{{- end -}}
{{- end -}}

{{- define "kube-ipvs.image" -}}
{{- printf "%s:%s" .Values.image.repository (default .Chart.AppVersion .Values.image.tag) -}}
{{- end -}}

{{/*
The mounted config file. The image's default arguments name the same path (Dockerfile CMD);
a unit test holds the two equal.
*/}}
{{- define "kube-ipvs.configDir" -}}/etc/kube-ipvs{{- end -}}
{{- define "kube-ipvs.configFile" -}}{{ include "kube-ipvs.configDir" . }}/config.yaml{{- end -}}

{{/* Host of "IP:port" or "[IPv6]:port" (the schema has already checked the form). */}}
{{- define "kube-ipvs.bindHost" -}}
{{- regexReplaceAll "^\\[?(.*?)\\]?:[0-9]+$" . "${1}" -}}
{{- end -}}

{{/* Port of "IP:port" or "[IPv6]:port". */}}
{{- define "kube-ipvs.bindPort" -}}
{{- regexReplaceAll "^.*:([0-9]+)$" . "${1}" -}}
{{- end -}}

{{/*
httpGet for a probe of the healthz server. With hostNetwork the kubelet probes the node's
address; a server bound to one address (loopback included) is probed there instead.
*/}}
{{- define "kube-ipvs.healthzGet" -}}
{{- $addr := .root.Values.config.healthzBindAddress -}}
{{- $host := include "kube-ipvs.bindHost" $addr -}}
httpGet:
  path: {{ .path }}
  port: {{ include "kube-ipvs.bindPort" $addr | int }}
  {{- if not (has $host (list "0.0.0.0" "::")) }}
  host: {{ $host | quote }}
  {{- end }}
{{- end -}}
