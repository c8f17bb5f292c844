{{/*
What the controller does to the resources it manages, in the namespaces it watches. Every
grant here is one the controller was seen to use (test/integration/helm-rbac.test.ts compares
this with the apiserver's audit log), and nothing it uses is missing.
*/}}
{{- define "flexcore.rbac.watchedRules" -}}
- apiGroups: ["flexcore.io"]
  resources: ["flexpipelines"]
  # Read through informers (list, watch). create and delete: the status API's ad hoc runs
  # (execute) and their removal after the TTL; patch: annotations, finalizers.
  verbs: ["list", "watch", "create", "patch", "delete"]
- apiGroups: ["flexcore.io"]
  resources: ["flexplugins"]
  verbs: ["list", "watch"]
- apiGroups: ["flexcore.io"]
  resources: ["flexpipelines/status", "flexplugins/status"]
  verbs: ["patch"]
- apiGroups: [""]
  # get: when a create finds the name taken (a new leader re-creating a Pod the old one made,
  # or someone else's Pod), to see whose it is.
  resources: ["pods"]
  verbs: ["get", "list", "watch", "create", "delete"]
- apiGroups: [""]
  resources: ["pods/log"]
  verbs: ["get"]
- apiGroups: [""]
  # Each step's rendered config is a Secret the controller writes and deletes; configFrom Secrets are read.
  resources: ["secrets"]
  verbs: ["get", "create", "delete"]
- apiGroups: [""]
  # Singer catalogs given as ConfigMaps.
  resources: ["configmaps"]
  verbs: ["get"]
- apiGroups: ["networking.k8s.io"]
  # Each step's NetworkPolicy (docs/sandbox.md): server-side apply (a patch that needs create
  # as well when the policy is new), and the policies of removed steps found and deleted.
  resources: ["networkpolicies"]
  verbs: ["list", "create", "patch", "delete"]
- apiGroups: ["events.k8s.io"]
  resources: ["events"]
  verbs: ["create"]
{{- end -}}

{{/* Cluster-scoped calls of the status API: it checks callers' tokens and permissions. */}}
{{- define "flexcore.rbac.clusterRules" -}}
- apiGroups: ["authentication.k8s.io"]
  resources: ["tokenreviews"]
  verbs: ["create"]
- apiGroups: ["authorization.k8s.io"]
  resources: ["subjectaccessreviews"]
  verbs: ["create"]
{{- end -}}
