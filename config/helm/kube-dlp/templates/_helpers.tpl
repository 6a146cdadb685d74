{{- define "kube-dlp.labels" -}}
app.kubernetes.io/name: kube-dlp
app.kubernetes.io/component: {{ .component }}
{{- end -}}

{{- define "kube-dlp.selector" -}}
app.kubernetes.io/name: kube-dlp
app.kubernetes.io/component: operator
{{- end -}}

{{- define "kube-dlp.image" -}}
{{ .Values.image.repository }}:{{ .Values.image.tag | default .Chart.AppVersion }}
{{- end -}}
