{{/* Base name of every resource: fullnameOverride, else release-chart (the release alone when it already contains the chart name). */}}
{{- define "flexcore.fullname" -}}
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

{{- define "flexcore.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{/* Labels that select the controller Pods; never change them in an upgrade (selectors are immutable). */}}
{{- define "flexcore.selectorLabels" -}}
app.kubernetes.io/name: {{ include "flexcore.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/component: controller
{{- end -}}

{{- define "flexcore.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
app.kubernetes.io/name: {{ include "flexcore.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: flexcore
{{- end -}}

{{- define "flexcore.serviceAccountName" -}}
{{- if .Values.serviceAccount.create -}}
{{- default (include "flexcore.fullname" .) .Values.serviceAccount.name -}}
{{- else -}}
{{- required "serviceAccount.name is required when serviceAccount.create is false" .Values.serviceAccount.name -}}
{{- end -}}
{{- end -}}

{{/* The controller image: a digest pins it; the tag defaults to appVersion, with -evaluation in evaluation mode (the only image with the embedded PostgreSQL). */}}
{{- define "flexcore.image" -}}
{{- $tag := default .Chart.AppVersion .Values.image.tag -}}
{{- if and .Values.evaluation.enabled (not .Values.image.tag) -}}
{{- $tag = printf "%s-evaluation" $tag -}}
{{- end -}}
{{- if .Values.image.digest -}}
{{- printf "%s@%s" .Values.image.repository .Values.image.digest -}}
{{- else -}}
{{- printf "%s:%s" .Values.image.repository $tag -}}
{{- end -}}
{{- end -}}

{{/* Refuses combinations the schema cannot express, at render time (no lookup: rendering stays deterministic for GitOps). */}}
{{- define "flexcore.checks" -}}
{{- if and (not .Values.database.existingSecret) (not .Values.evaluation.enabled) -}}
{{- fail "database.existingSecret: name the Secret holding the PostgreSQL URL (key database.key, default url); or, only to try FlexCore, set evaluation.enabled=true to run the embedded PostgreSQL" -}}
{{- end -}}
{{- if and .Values.evaluation.enabled .Values.database.existingSecret -}}
{{- fail "evaluation.enabled: evaluation mode runs the embedded PostgreSQL; unset database.existingSecret or turn evaluation off" -}}
{{- end -}}
{{- if and (gt (int .Values.replicaCount) 1) (not .Values.leaderElection.enabled) (not .Values.evaluation.enabled) -}}
{{- fail "leaderElection.enabled: several replicas (replicaCount > 1) need leader election, or they would all run every pipeline" -}}
{{- end -}}
{{- end -}}

{{/* Replicas: evaluation mode runs one (its store is a single-writer volume). */}}
{{- define "flexcore.replicas" -}}
{{- if .Values.evaluation.enabled -}}1{{- else -}}{{ .Values.replicaCount }}{{- end -}}
{{- end -}}

{{/* Where Leases live: the release namespace. */}}
{{- define "flexcore.leaseNamespace" -}}
{{- .Release.Namespace -}}
{{- end -}}

{{/* Name of a cluster-scoped object: the release namespace is part of it, so releases of the same name in two namespaces do not collide. */}}
{{- define "flexcore.clusterName" -}}
{{- printf "%s-%s" .Release.Namespace (include "flexcore.fullname" .) -}}
{{- end -}}
