package main

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"strconv"
	"strings"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
)

// The same labels, annotation and Job shape as controllers/session/job.ts.
const (
	labelSession      = "steward.dev/session"
	labelAttempt      = "steward.dev/attempt"
	labelManagedBy    = "app.kubernetes.io/managed-by"
	managedBy         = "steward"
	annotationSession = "steward.dev/session"
)

func hash8(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:])[:8]
}

func jobName(session string, attempt int32) string {
	suffix := "-" + strconv.Itoa(int(attempt))
	if len(session)+len(suffix) <= 63 {
		return session + suffix
	}
	return strings.TrimRight(session[:63-len(suffix)-9], "-.") + "-" + hash8(session) + suffix
}

func sessionLabelValue(session string) string {
	if len(session) <= 63 {
		return session
	}
	return strings.TrimRight(session[:54], "-._") + "-" + hash8(session)
}

// buildJob is the Job of one attempt: no Job-level retries, restricted pod security, the
// Session's name, attempt and input in the environment.
func buildJob(s *Session, attempt int32, runnerImage string) *batchv1.Job {
	t := s.Spec.Template
	if t == nil {
		t = &SessionTemplate{}
	}
	labels := copyMap(t.Labels)
	if labels == nil {
		labels = map[string]string{}
	}
	labels[labelManagedBy] = managedBy
	labels[labelSession] = sessionLabelValue(s.Name)
	labels[labelAttempt] = strconv.Itoa(int(attempt))
	annotations := copyMap(t.Annotations)
	if annotations == nil {
		annotations = map[string]string{}
	}
	annotations[annotationSession] = s.Name
	input := ""
	if s.Spec.Input != nil {
		input = string(s.Spec.Input.Raw)
		if !json.Valid(s.Spec.Input.Raw) {
			input = ""
		}
	}
	env := append(append([]corev1.EnvVar(nil), t.Env...),
		corev1.EnvVar{Name: "STEWARD_SESSION", Value: s.Name},
		corev1.EnvVar{Name: "STEWARD_ATTEMPT", Value: strconv.Itoa(int(attempt))},
		corev1.EnvVar{Name: "STEWARD_INPUT", Value: input},
	)
	image := t.Image
	if image == "" {
		image = runnerImage
	}
	container := corev1.Container{
		Name:    "session",
		Image:   image,
		Command: t.Command,
		Args:    t.Args,
		Env:     env,
		EnvFrom: t.EnvFrom,
		// As Steward's: the termination message is the Session's result.
		TerminationMessagePath:   "/dev/termination-log",
		TerminationMessagePolicy: corev1.TerminationMessageFallbackToLogsOnError,
		SecurityContext: &corev1.SecurityContext{
			AllowPrivilegeEscalation: ptr.To(false),
			Capabilities:             &corev1.Capabilities{Drop: []corev1.Capability{"ALL"}},
			RunAsNonRoot:             ptr.To(true),
			SeccompProfile:           &corev1.SeccompProfile{Type: corev1.SeccompProfileTypeRuntimeDefault},
		},
	}
	if t.Resources != nil {
		container.Resources = *t.Resources
	}
	job := &batchv1.Job{
		ObjectMeta: metav1.ObjectMeta{
			Name:        jobName(s.Name, attempt),
			Namespace:   s.Namespace,
			Labels:      labels,
			Annotations: annotations,
		},
		Spec: batchv1.JobSpec{
			BackoffLimit: ptr.To[int32](0),
			// Steward's POD_FAILURE_POLICY (controllers/session/job.ts): a disruption or a non-zero
			// exit code fails the Job at once, with the reason in its Failed condition.
			PodFailurePolicy: &batchv1.PodFailurePolicy{Rules: []batchv1.PodFailurePolicyRule{
				{Action: batchv1.PodFailurePolicyActionFailJob, OnPodConditions: []batchv1.PodFailurePolicyOnPodConditionsPattern{
					{Type: corev1.DisruptionTarget, Status: corev1.ConditionTrue},
				}},
				{Action: batchv1.PodFailurePolicyActionFailJob, OnExitCodes: &batchv1.PodFailurePolicyOnExitCodesRequirement{
					ContainerName: ptr.To("session"), Operator: batchv1.PodFailurePolicyOnExitCodesOpNotIn, Values: []int32{0},
				}},
			}},
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: labels, Annotations: annotations},
				Spec: corev1.PodSpec{
					RestartPolicy:                corev1.RestartPolicyNever,
					Containers:                   []corev1.Container{container},
					AutomountServiceAccountToken: ptr.To(false),
					ServiceAccountName:           t.ServiceAccountName,
					NodeSelector:                 t.NodeSelector,
					Tolerations:                  t.Tolerations,
					SecurityContext: &corev1.PodSecurityContext{
						RunAsNonRoot:   ptr.To(true),
						RunAsUser:      ptr.To[int64](65532),
						RunAsGroup:     ptr.To[int64](65532),
						SeccompProfile: &corev1.SeccompProfile{Type: corev1.SeccompProfileTypeRuntimeDefault},
					},
				},
			},
			TTLSecondsAfterFinished: s.Spec.TTLSecondsAfterFinished,
		},
	}
	if s.Spec.TimeoutSeconds != nil {
		start := int64(300)
		if s.Spec.StartTimeoutSeconds != nil {
			start = int64(*s.Spec.StartTimeoutSeconds)
		}
		job.Spec.ActiveDeadlineSeconds = ptr.To(start + int64(*s.Spec.TimeoutSeconds) + 60)
	}
	return job
}

// jobFinished is the Job's terminal condition, if any.
func jobFinished(j *batchv1.Job) (batchv1.JobConditionType, *batchv1.JobCondition) {
	for i := range j.Status.Conditions {
		c := &j.Status.Conditions[i]
		if (c.Type == batchv1.JobComplete || c.Type == batchv1.JobFailed) && c.Status == corev1.ConditionTrue {
			return c.Type, c
		}
	}
	return "", nil
}
