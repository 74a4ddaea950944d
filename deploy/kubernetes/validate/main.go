// Command validate checks Tributary's Kubernetes manifests the way an API server
// would decode them, without a cluster: every document (the base's files, and each
// kustomization rendered with the kustomize library) is decoded into its official Go
// type — Kubernetes' own (k8s.io/api), KEDA's, the Prometheus Operator's — with
// unknown fields refused, and then checked against the rules of this deployment
// (probes, grace periods, autoscaling bounds, secrets only by reference).
//
//	go run ./deploy/kubernetes/validate [-kustomize DIR]... [-compose FILE]... [FILE]...
//
// With no arguments it validates deploy/kubernetes/base, every overlay and
// deploy/compose.yaml (loaded by compose-spec's own loader, which checks the file
// against the Compose schema).
package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	composecli "github.com/compose-spec/compose-go/v2/cli"
	composetypes "github.com/compose-spec/compose-go/v2/types"
	kedav1alpha1 "github.com/kedacore/keda/v2/apis/keda/v1alpha1"
	monitoringv1 "github.com/prometheus-operator/prometheus-operator/pkg/apis/monitoring/v1"
	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	policyv1 "k8s.io/api/policy/v1"
	kjson "sigs.k8s.io/json"
	"sigs.k8s.io/kustomize/api/krusty"
	"sigs.k8s.io/kustomize/kyaml/filesys"
	"sigs.k8s.io/yaml"
)

type multi []string

func (m *multi) String() string     { return strings.Join(*m, ",") }
func (m *multi) Set(v string) error { *m = append(*m, v); return nil }

func main() {
	var kustomizations, composeFiles multi
	flag.Var(&kustomizations, "kustomize", "a kustomization folder to render and validate (repeatable)")
	flag.Var(&composeFiles, "compose", "a Compose file to load and validate (repeatable)")
	flag.Parse()
	files := flag.Args()
	if len(kustomizations) == 0 && len(files) == 0 && len(composeFiles) == 0 {
		composeFiles = append(composeFiles, "deploy/compose.yaml")
		root := "deploy/kubernetes"
		kustomizations = append(kustomizations, filepath.Join(root, "base"))
		overlays, _ := filepath.Glob(filepath.Join(root, "overlays", "*"))
		kustomizations = append(kustomizations, overlays...)
		base, _ := filepath.Glob(filepath.Join(root, "base", "*.yaml"))
		for _, f := range base {
			if filepath.Base(f) != "kustomization.yaml" {
				files = append(files, f)
			}
		}
	}
	var failures []string
	report := func(source string, errs []error) {
		for _, e := range errs {
			failures = append(failures, fmt.Sprintf("%s: %v", source, e))
		}
	}
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			report(f, []error{err})
			continue
		}
		docs, errs := validateStream(data)
		report(f, errs)
		fmt.Printf("%s: %d documents\n", f, docs)
	}
	for _, k := range kustomizations {
		rendered, err := render(k)
		if err != nil {
			report(k, []error{err})
			continue
		}
		docs, errs := validateStream(rendered)
		report(k+" (rendered)", errs)
		errs = checkDeployment(rendered)
		report(k+" (rendered)", errs)
		fmt.Printf("%s: rendered, %d documents\n", k, docs)
	}
	for _, f := range composeFiles {
		services, errs := validateCompose(f)
		report(f, errs)
		fmt.Printf("%s: %d services\n", f, services)
	}
	if len(failures) > 0 {
		for _, f := range failures {
			fmt.Fprintln(os.Stderr, "invalid:", f)
		}
		os.Exit(1)
	}
	fmt.Println("all manifests valid")
}

func render(dir string) ([]byte, error) {
	k := krusty.MakeKustomizer(krusty.MakeDefaultOptions())
	m, err := k.Run(filesys.MakeFsOnDisk(), dir)
	if err != nil {
		return nil, err
	}
	return m.AsYaml()
}

// documents splits a YAML stream into its non-empty documents.
func documents(stream []byte) [][]byte {
	var out [][]byte
	for _, part := range bytes.Split(append([]byte("\n"), stream...), []byte("\n---")) {
		trimmed := bytes.TrimSpace(part)
		nonComment := false
		for _, line := range strings.Split(string(trimmed), "\n") {
			l := strings.TrimSpace(line)
			if l != "" && !strings.HasPrefix(l, "#") {
				nonComment = true
				break
			}
		}
		if nonComment {
			out = append(out, part)
		}
	}
	return out
}

type header struct {
	APIVersion string `json:"apiVersion"`
	Kind       string `json:"kind"`
	Metadata   struct {
		Name string `json:"name"`
	} `json:"metadata"`
}

// the Go type of each kind these manifests may hold; anything else is refused
func typed(apiVersion, kind string) (any, error) {
	switch apiVersion + "/" + kind {
	case "v1/ServiceAccount":
		return &corev1.ServiceAccount{}, nil
	case "v1/ConfigMap":
		return &corev1.ConfigMap{}, nil
	case "v1/Service":
		return &corev1.Service{}, nil
	case "v1/Namespace":
		return &corev1.Namespace{}, nil
	case "apps/v1/Deployment":
		return &appsv1.Deployment{}, nil
	case "apps/v1/StatefulSet":
		return &appsv1.StatefulSet{}, nil
	case "batch/v1/CronJob":
		return &batchv1.CronJob{}, nil
	case "batch/v1/Job":
		return &batchv1.Job{}, nil
	case "policy/v1/PodDisruptionBudget":
		return &policyv1.PodDisruptionBudget{}, nil
	case "networking.k8s.io/v1/NetworkPolicy":
		return &networkingv1.NetworkPolicy{}, nil
	case "networking.k8s.io/v1/Ingress":
		return &networkingv1.Ingress{}, nil
	case "keda.sh/v1alpha1/ScaledObject":
		return &kedav1alpha1.ScaledObject{}, nil
	case "keda.sh/v1alpha1/TriggerAuthentication":
		return &kedav1alpha1.TriggerAuthentication{}, nil
	case "monitoring.coreos.com/v1/ServiceMonitor":
		return &monitoringv1.ServiceMonitor{}, nil
	}
	return nil, fmt.Errorf("%s %s is not a kind these manifests use", apiVersion, kind)
}

// strict decodes JSON into v as the API server does: field names matched case-
// sensitively (encoding/json would take `scrapeTimeOut` for `scrapeTimeout`), unknown
// and duplicate fields refused.
func strict(data []byte, v any) error {
	strictErrs, err := kjson.UnmarshalStrict(data, v, kjson.DisallowUnknownFields)
	if err != nil {
		return err
	}
	return errors.Join(strictErrs...)
}

func validateStream(stream []byte) (int, []error) {
	var errs []error
	docs := documents(stream)
	for i, doc := range docs {
		// YAML → JSON refusing duplicate keys (sigs.k8s.io/yaml's strict mode)
		js, err := yaml.YAMLToJSONStrict(doc)
		if err != nil {
			errs = append(errs, fmt.Errorf("document %d: %w", i+1, err))
			continue
		}
		var h header
		if err := json.Unmarshal(js, &h); err != nil || h.Kind == "" || h.APIVersion == "" {
			errs = append(errs, fmt.Errorf("document %d: no apiVersion/kind", i+1))
			continue
		}
		obj, err := typed(h.APIVersion, h.Kind)
		if err == nil {
			err = strict(js, obj)
		}
		if err != nil {
			errs = append(errs, fmt.Errorf("%s %q: %w", h.Kind, h.Metadata.Name, err))
			continue
		}
		errs = append(errs, rules(obj)...)
	}
	return len(docs), errs
}

// rules every workload here keeps.
func rules(obj any) []error {
	var errs []error
	pod := func(what string, spec corev1.PodSpec) {
		for _, c := range spec.Containers {
			for _, e := range c.Env {
				lower := strings.ToLower(e.Name)
				if e.Value != "" && (strings.Contains(lower, "password") || strings.Contains(lower, "secret") || strings.Contains(lower, "token")) &&
					!strings.HasPrefix(e.Value, "file:") && !strings.HasPrefix(e.Value, "env:") {
					errs = append(errs, fmt.Errorf("%s: %s holds a literal secret; use a Secret reference", what, e.Name))
				}
			}
			sc := c.SecurityContext
			if sc == nil || sc.AllowPrivilegeEscalation == nil || *sc.AllowPrivilegeEscalation ||
				sc.ReadOnlyRootFilesystem == nil || !*sc.ReadOnlyRootFilesystem {
				errs = append(errs, fmt.Errorf("%s: container %s must not escalate privileges and must have a read-only root", what, c.Name))
			}
			if c.Resources.Limits.Memory().IsZero() {
				errs = append(errs, fmt.Errorf("%s: container %s has no memory limit", what, c.Name))
			}
		}
		if spec.SecurityContext == nil || spec.SecurityContext.RunAsNonRoot == nil || !*spec.SecurityContext.RunAsNonRoot {
			errs = append(errs, fmt.Errorf("%s: pods must run as non-root", what))
		}
	}
	switch o := obj.(type) {
	case *appsv1.Deployment:
		pod("Deployment "+o.Name, o.Spec.Template.Spec)
	case *appsv1.StatefulSet:
		pod("StatefulSet "+o.Name, o.Spec.Template.Spec)
	case *batchv1.CronJob:
		pod("CronJob "+o.Name, o.Spec.JobTemplate.Spec.Template.Spec)
	case *corev1.ConfigMap:
		for k, v := range o.Data {
			lower := strings.ToLower(k)
			if (strings.Contains(lower, "password") || strings.Contains(lower, "secret")) &&
				!strings.HasPrefix(v, "file:") && !strings.HasPrefix(v, "env:") {
				errs = append(errs, fmt.Errorf("ConfigMap %s: %s holds a literal secret", o.Name, k))
			}
		}
	}
	return errs
}

// checkDeployment checks what only the whole rendered deployment can say: the
// consumer's probes and grace, KEDA's bound against the topic's partitions, and that
// every referenced ConfigMap exists.
func checkDeployment(stream []byte) []error {
	var errs []error
	var consumer *appsv1.Deployment
	var scaled *kedav1alpha1.ScaledObject
	configMaps := map[string]bool{}
	var referenced []string
	for _, doc := range documents(stream) {
		js, err := yaml.YAMLToJSONStrict(doc)
		if err != nil {
			continue
		}
		var h header
		_ = json.Unmarshal(js, &h)
		switch h.Kind {
		case "Deployment":
			d := &appsv1.Deployment{}
			if json.Unmarshal(js, d) == nil && d.Name == "tributary-consumer" {
				consumer = d
			}
		case "ScaledObject":
			s := &kedav1alpha1.ScaledObject{}
			if json.Unmarshal(js, s) == nil {
				scaled = s
			}
		case "ConfigMap":
			configMaps[h.Metadata.Name] = true
		}
		for _, name := range configMapRefs(js) {
			referenced = append(referenced, name)
		}
	}
	for _, name := range referenced {
		if !configMaps[name] {
			errs = append(errs, fmt.Errorf("ConfigMap %s is referenced but not rendered", name))
		}
	}
	if consumer == nil {
		return append(errs, errors.New("no tributary-consumer Deployment"))
	}
	spec := consumer.Spec.Template.Spec
	c := spec.Containers[0]
	if c.LivenessProbe == nil || c.LivenessProbe.HTTPGet == nil || c.LivenessProbe.HTTPGet.Path != "/healthz" {
		errs = append(errs, errors.New("consumer: liveness must probe /healthz"))
	}
	if c.ReadinessProbe == nil || c.ReadinessProbe.HTTPGet == nil || c.ReadinessProbe.HTTPGet.Path != "/readyz" {
		errs = append(errs, errors.New("consumer: readiness must probe /readyz"))
	}
	podName := false
	grace := 30 * time.Second
	for _, e := range c.Env {
		if e.Name == "TRIBUTARY_POD_NAME" && e.ValueFrom != nil && e.ValueFrom.FieldRef != nil && e.ValueFrom.FieldRef.FieldPath == "metadata.name" {
			podName = true
		}
		if e.Name == "TRIBUTARY_SHUTDOWN_GRACE" {
			if d, err := time.ParseDuration(e.Value); err == nil {
				grace = d
			}
		}
	}
	if !podName {
		errs = append(errs, errors.New("consumer: TRIBUTARY_POD_NAME must come from metadata.name (the static group.instance.id)"))
	}
	if spec.TerminationGracePeriodSeconds == nil || time.Duration(*spec.TerminationGracePeriodSeconds)*time.Second <= grace {
		errs = append(errs, fmt.Errorf("consumer: terminationGracePeriodSeconds must exceed the shutdown grace %v", grace))
	}
	if scaled == nil {
		return append(errs, errors.New("no ScaledObject for the consumer"))
	}
	if scaled.Spec.ScaleTargetRef == nil || scaled.Spec.ScaleTargetRef.Name != consumer.Name {
		errs = append(errs, errors.New("ScaledObject does not target the consumer Deployment"))
	}
	partitions, err := strconv.Atoi(scaled.Annotations["tributary.dev/index-topic-partitions"])
	if err != nil {
		errs = append(errs, errors.New("ScaledObject: annotation tributary.dev/index-topic-partitions must give the index topic's partitions"))
	} else if scaled.Spec.MaxReplicaCount == nil || int(*scaled.Spec.MaxReplicaCount) > partitions {
		errs = append(errs, fmt.Errorf("ScaledObject: maxReplicaCount must be set and at most the %d partitions", partitions))
	}
	for _, t := range scaled.Spec.Triggers {
		if t.Type == "kafka" && t.Metadata["activationLagThreshold"] == "" {
			errs = append(errs, errors.New("ScaledObject: the kafka trigger needs an activationLagThreshold"))
		}
	}
	return errs
}

// configMapRefs lists the ConfigMaps a document's pods read (envFrom and volumes).
func configMapRefs(js []byte) []string {
	var out []string
	var walk func(v any)
	walk = func(v any) {
		switch t := v.(type) {
		case map[string]any:
			for k, child := range t {
				if k == "configMapRef" || k == "configMap" {
					if m, ok := child.(map[string]any); ok {
						if name, ok := m["name"].(string); ok {
							out = append(out, name)
						}
					}
				}
				walk(child)
			}
		case []any:
			for _, child := range t {
				walk(child)
			}
		}
	}
	var v any
	if json.Unmarshal(js, &v) == nil {
		walk(v)
	}
	return out
}

// validateCompose loads a Compose file as `docker compose` would (schema validation,
// interpolation with placeholder credentials) and checks that Tributary's services
// bind-mount nothing and that the publisher only runs when asked.
func validateCompose(file string) (int, []error) {
	opts, err := composecli.NewProjectOptions([]string{file},
		composecli.WithEnv([]string{"AWS_ACCESS_KEY_ID=placeholder", "AWS_SECRET_ACCESS_KEY=placeholder"}),
		composecli.WithProfiles([]string{"publish"}),
	)
	if err != nil {
		return 0, []error{err}
	}
	project, err := opts.LoadProject(context.Background())
	if err != nil {
		return 0, []error{err}
	}
	var errs []error
	for _, want := range []string{"kafka", "minio", "consumer", "watch", "publisher"} {
		if _, ok := project.Services[want]; !ok {
			errs = append(errs, fmt.Errorf("no %s service", want))
		}
	}
	for name, svc := range project.Services {
		for _, v := range svc.Volumes {
			if v.Type == composetypes.VolumeTypeBind {
				errs = append(errs, fmt.Errorf("service %s bind-mounts %s (the deployment must need no host files)", name, v.Source))
			}
		}
	}
	if p, ok := project.Services["publisher"]; ok && len(p.Profiles) == 0 {
		errs = append(errs, errors.New("the publisher must be a one-off service (a profile), not started by `up`"))
	}
	return len(project.Services), errs
}
