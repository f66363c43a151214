{{/* Names and labels shared by every manifest of the party. */}}
{{- define "soiree.fullname" -}}
{{- .Release.Name | trunc 40 | trimSuffix "-" -}}
{{- end -}}

{{- define "soiree.labels" -}}
app.kubernetes.io/name: {{ .name }}
app.kubernetes.io/instance: {{ .root.Release.Name }}
app.kubernetes.io/part-of: {{ .root.Chart.Name }}
app.kubernetes.io/managed-by: {{ .root.Release.Service }}
{{- end -}}

{{- define "soiree.selector" -}}
app.kubernetes.io/name: {{ .name }}
app.kubernetes.io/instance: {{ .root.Release.Name }}
{{- end -}}

{{- define "soiree.image" -}}
{{ .root.Values.image.registry }}/{{ .p.repository }}:{{ .root.Values.image.tag }}
{{- end -}}

{{/*
One package's Pod: a container per service (`soiree-grain --only NAME`, sharing loopback and
/var), one for its links when it has any, each probed by `soiree-grain --ready NAME`.
Arguments: root, name, p (the package's values), skip (the services run elsewhere, a list),
forwards (extra `--forward PORT=URL` of the links container), sidecar (extra container YAML),
volume (the /var volume's YAML).
*/}}
{{- define "soiree.podSpec" -}}
{{- $full := include "soiree.fullname" .root -}}
{{- $image := include "soiree.image" . -}}
{{- $ctx := . -}}
securityContext:
  runAsUser: 1000
  runAsGroup: 1000
  fsGroup: 1000
  runAsNonRoot: true
containers:
{{- range .p.services }}
{{- if not (has .name $ctx.skip) }}
  - name: {{ .name }}
    image: {{ $image }}
    imagePullPolicy: {{ $ctx.root.Values.image.pullPolicy }}
    {{- /* `after` across containers: each waits for the ready markers of the services it
    starts after (in the shared /var), except those run outside the Pod (reached by a link). */}}
    command:
      - /opt/soiree/bin/soiree-grain
      - --only
      - {{ .name | quote }}
      {{- range .after }}
      {{- if not (has . $ctx.skip) }}
      - --after
      - {{ . | quote }}
      {{- end }}
      {{- end }}
      - /opt/soiree/services.json
    {{- /* Only what the package offers outside the Pod: the HTTP port and UDP ports; other
    services' ports stay on the Pod's loopback, as in a grain. */}}
    {{- $http := has $ctx.p.httpPort .ports }}
    {{- if or $http .udpPorts }}
    ports:
      {{- if $http }}
      - containerPort: {{ $ctx.p.httpPort }}
        protocol: TCP
      {{- end }}
      {{- range .udpPorts }}
      - containerPort: {{ . }}
        protocol: UDP
      {{- end }}
    {{- end }}
    startupProbe:
      exec:
        command: ["/opt/soiree/bin/soiree-grain", "--ready", {{ .name | quote }}]
      periodSeconds: 5
      failureThreshold: {{ add1 (div .startupSeconds 5) }}
    readinessProbe:
      exec:
        command: ["/opt/soiree/bin/soiree-grain", "--ready", {{ .name | quote }}]
      periodSeconds: 10
    {{- with $ctx.p.resources }}
    resources:
      {{- toYaml . | nindent 6 }}
    {{- end }}
    volumeMounts:
      - name: var
        mountPath: /var
{{- end }}
{{- end }}
{{- if or .p.links .forwards }}
  - name: links
    image: {{ $image }}
    imagePullPolicy: {{ .root.Values.image.pullPolicy }}
    command:
      - /opt/soiree/bin/soiree-grain
      - --only-links
      {{- range .forwards }}
      - --forward
      - {{ . | quote }}
      {{- end }}
      - /opt/soiree/services.json
    {{- with .p.links }}
    env:
      {{- range . }}
      - name: {{ .env }}
        value: {{ printf "http://%s-%s:%v%s" $full .package .packagePort .path | quote }}
      {{- end }}
    {{- end }}
    volumeMounts:
      - name: var
        mountPath: /var
{{- end }}
{{- with .sidecar }}
{{ . }}
{{- end }}
volumes:
  - name: var
    {{- .volume | nindent 4 }}
{{- end -}}
