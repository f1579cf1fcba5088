/**
 * The chart's templates: the one description of the Kubernetes objects, rendered by Helm for a
 * release and by template.ts for the plain manifests. Rules and dashboards are files of the
 * chart, read with .Files.Get, so Helm never parses the rules' own {{ $labels }} templates.
 */
const labels = (at: number, root: '.' | '$.') =>
  [
    `app.kubernetes.io/name: inferwatch`,
    `app.kubernetes.io/instance: {{ ${root}Release.Name }}`,
    `app.kubernetes.io/version: {{ ${root}Chart.AppVersion | quote }}`,
  ]
    .map((l) => ' '.repeat(at) + l)
    .join('\n');

const selector = (at: number) =>
  [`app.kubernetes.io/name: inferwatch`, `app.kubernetes.io/instance: {{ .Release.Name }}`]
    .map((l) => ' '.repeat(at) + l)
    .join('\n');

const metadata = (name: string, extra = '') => `metadata:
  name: ${name}
  namespace: {{ .Release.Namespace }}
  labels:
${labels(4, '.')}${extra}`;

/** Extra labels from a values map, under the standard ones. */
const extraLabels = (path: string) => `
    {{- if ${path} }}
    {{- toYaml ${path} | nindent 4 }}
    {{- end }}`;

export const TEMPLATES: Readonly<Record<string, string>> = {
  'serviceaccount.yaml': `apiVersion: v1
kind: ServiceAccount
${metadata('{{ .Release.Name }}')}
# The agent lists and watches the pods of its own node: its token is mounted.
automountServiceAccountToken: true
`,

  'rbac.yaml': `apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata:
  name: {{ .Release.Namespace }}-{{ .Release.Name }}
  labels:
${labels(4, '.')}
rules:
  # Read-only, and pods only: the agent asks for its own node's (a spec.nodeName field selector).
  - apiGroups: [""]
    resources: [pods]
    verbs: [get, list, watch]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata:
  name: {{ .Release.Namespace }}-{{ .Release.Name }}
  labels:
${labels(4, '.')}
roleRef:
  apiGroup: rbac.authorization.k8s.io
  kind: ClusterRole
  name: {{ .Release.Namespace }}-{{ .Release.Name }}
subjects:
  - kind: ServiceAccount
    name: {{ .Release.Name }}
    namespace: {{ .Release.Namespace }}
`,

  'configmap.yaml': `apiVersion: v1
kind: ConfigMap
${metadata('{{ .Release.Name }}-config')}
data:
  config.yaml: |
{{ .Values.config | indent 4 }}
`,

  'daemonset.yaml': `apiVersion: apps/v1
kind: DaemonSet
${metadata('{{ .Release.Name }}')}
spec:
  selector:
    matchLabels:
${selector(6)}
  updateStrategy:
    type: RollingUpdate
    rollingUpdate:
      maxUnavailable: 10%
  template:
    metadata:
      labels:
${labels(8, '.')}
    spec:
      serviceAccountName: {{ .Release.Name }}
      automountServiceAccountToken: true
      {{- if .Values.runtimeClassName }}
      runtimeClassName: {{ .Values.runtimeClassName }}
      {{- end }}
      hostPID: {{ .Values.hostPID }}
      {{- if .Values.priorityClassName }}
      priorityClassName: {{ .Values.priorityClassName }}
      {{- end }}
      {{- if .Values.nodeSelector }}
      nodeSelector:
        {{- toYaml .Values.nodeSelector | nindent 8 }}
      {{- end }}
      {{- if .Values.affinity }}
      affinity:
        {{- toYaml .Values.affinity | nindent 8 }}
      {{- end }}
      {{- if .Values.tolerations }}
      tolerations:
        {{- toYaml .Values.tolerations | nindent 8 }}
      {{- end }}
      {{- if .Values.imagePullSecrets }}
      imagePullSecrets:
        {{- toYaml .Values.imagePullSecrets | nindent 8 }}
      {{- end }}
      containers:
        - name: inferwatch
          image: "{{ .Values.image.repository }}:{{ .Values.image.tag | default .Chart.AppVersion }}"
          imagePullPolicy: {{ .Values.image.pullPolicy }}
          args: [run, --config, /etc/inferwatch/config.yaml]
          ports:
            - name: metrics
              containerPort: 9500
              protocol: TCP
          env:
            # The node whose pods the agent watches.
            - name: NODE_NAME
              valueFrom:
                fieldRef:
                  fieldPath: spec.nodeName
            - name: NVIDIA_VISIBLE_DEVICES
              value: all
            - name: NVIDIA_DRIVER_CAPABILITIES
              value: utility
          securityContext:
            readOnlyRootFilesystem: true
            # Root (the image's own user is 65534): the kubelet's socket, other processes'
            # /proc entries and the kernel log need it.
            runAsUser: 0
            runAsNonRoot: false
            {{- if eq .Values.kernelLog "privileged" }}
            privileged: true
            {{- else }}
            # No capability, but CAP_SYSLOG where it reads the kernel log.
            allowPrivilegeEscalation: false
            seccompProfile:
              type: RuntimeDefault
            capabilities:
              drop: [ALL]
              {{- if eq .Values.kernelLog "kmsg" }}
              add: [SYSLOG]
              {{- end }}
            {{- end }}
          readinessProbe:
            httpGet:
              path: /healthz
              port: metrics
            periodSeconds: 10
          livenessProbe:
            httpGet:
              path: /healthz
              port: metrics
            periodSeconds: 30
            failureThreshold: 5
          resources:
            {{- toYaml .Values.resources | nindent 12 }}
          volumeMounts:
            - name: config
              mountPath: /etc/inferwatch
              readOnly: true
            {{- if eq .Values.kernelLog "off" }}
            {{- else }}
            - name: kmsg
              mountPath: /dev/kmsg
              readOnly: true
            {{- end }}
            - name: proc
              mountPath: /host/proc
              readOnly: true
            {{- if .Values.podResources }}
            - name: pod-resources
              mountPath: /var/lib/kubelet/pod-resources
              readOnly: true
            {{- end }}
            - name: tmp
              mountPath: /tmp
            # The evaluation's baselines outlive the pod: kept on the node.
            - name: state
              mountPath: /var/lib/inferwatch
      volumes:
        - name: config
          configMap:
            name: {{ .Release.Name }}-config
        {{- if eq .Values.kernelLog "off" }}
        {{- else }}
        - name: kmsg
          hostPath:
            path: /dev/kmsg
            type: CharDevice
        {{- end }}
        - name: proc
          hostPath:
            path: /proc
            type: Directory
        {{- if .Values.podResources }}
        - name: pod-resources
          hostPath:
            path: /var/lib/kubelet/pod-resources
            type: Directory
        {{- end }}
        - name: tmp
          emptyDir:
            medium: Memory
            sizeLimit: 16Mi
        - name: state
          hostPath:
            path: /var/lib/inferwatch
            type: DirectoryOrCreate
`,

  'service.yaml': `apiVersion: v1
kind: Service
${metadata('{{ .Release.Name }}')}
spec:
  clusterIP: None
  selector:
${selector(4)}
  ports:
    - name: metrics
      port: 9500
      targetPort: metrics
      protocol: TCP
`,

  'servicemonitor.yaml': `{{- if .Values.serviceMonitor.enabled }}
apiVersion: monitoring.coreos.com/v1
kind: ServiceMonitor
${metadata('{{ .Release.Name }}', extraLabels('.Values.serviceMonitor.labels'))}
spec:
  selector:
    matchLabels:
${selector(6)}
  endpoints:
    - port: metrics
      interval: {{ .Values.serviceMonitor.interval }}
      # The node label the alerts and the Alertmanager inhibitions join on.
      relabelings:
        - sourceLabels: [__meta_kubernetes_pod_node_name]
          targetLabel: node
          action: replace
{{- end }}
`,

  'prometheusrule.yaml': `{{- if .Values.prometheusRule.enabled }}
apiVersion: monitoring.coreos.com/v1
kind: PrometheusRule
${metadata('{{ .Release.Name }}', extraLabels('.Values.prometheusRule.labels'))}
spec:
  groups:
{{- range $group := .Values.prometheusRule.groups }}
{{ $.Files.Get (printf "files/rules/%s.yml" $group) | indent 4 }}
{{- end }}
{{- end }}
`,

  'dashboards.yaml': `{{- if .Values.dashboards.enabled }}
{{- range $name := .Values.dashboards.names }}
---
apiVersion: v1
kind: ConfigMap
metadata:
  name: {{ $.Release.Name }}-dashboard-{{ $name }}
  namespace: {{ $.Release.Namespace }}
  labels:
${labels(4, '$.')}
    {{- toYaml $.Values.dashboards.labels | nindent 4 }}
data:
  inferwatch-{{ $name }}.json: |
{{ $.Files.Get (printf "files/dashboards/%s.json" $name) | indent 4 }}
{{- end }}
{{- end }}
`,
};
