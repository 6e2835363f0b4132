package main

import (
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

// The Session API (steward.dev/v1alpha1), typed as a kubebuilder project would type it. The
// fields mirror controllers/session/types.ts, so the cache holds the same data Steward's does.

var groupVersion = schema.GroupVersion{Group: "steward.dev", Version: "v1alpha1"}

type SessionTemplate struct {
	Image              string                       `json:"image,omitempty"`
	Command            []string                     `json:"command,omitempty"`
	Args               []string                     `json:"args,omitempty"`
	Env                []corev1.EnvVar              `json:"env,omitempty"`
	EnvFrom            []corev1.EnvFromSource       `json:"envFrom,omitempty"`
	Resources          *corev1.ResourceRequirements `json:"resources,omitempty"`
	ServiceAccountName string                       `json:"serviceAccountName,omitempty"`
	NodeSelector       map[string]string            `json:"nodeSelector,omitempty"`
	Tolerations        []corev1.Toleration          `json:"tolerations,omitempty"`
	Labels             map[string]string            `json:"labels,omitempty"`
	Annotations        map[string]string            `json:"annotations,omitempty"`
}

type RetryBackoff struct {
	InitialSeconds *int32 `json:"initialSeconds,omitempty"`
	Factor         *int32 `json:"factor,omitempty"`
	MaxSeconds     *int32 `json:"maxSeconds,omitempty"`
}

type RetryPolicy struct {
	Limit       *int32        `json:"limit,omitempty"`
	Backoff     *RetryBackoff `json:"backoff,omitempty"`
	OnExitCodes []int32       `json:"onExitCodes,omitempty"`
}

type SessionSpec struct {
	Template                *SessionTemplate      `json:"template,omitempty"`
	Input                   *apiextensionsv1.JSON `json:"input,omitempty"`
	StartTimeoutSeconds     *int32                `json:"startTimeoutSeconds,omitempty"`
	TimeoutSeconds          *int32                `json:"timeoutSeconds,omitempty"`
	Retry                   *RetryPolicy          `json:"retry,omitempty"`
	TTLSecondsAfterFinished *int32                `json:"ttlSecondsAfterFinished,omitempty"`
	Cancel                  bool                  `json:"cancel,omitempty"`
}

type SessionStatus struct {
	Phase              string             `json:"phase,omitempty"`
	Attempt            int32              `json:"attempt,omitempty"`
	JobName            string             `json:"jobName,omitempty"`
	StartTime          *metav1.Time       `json:"startTime,omitempty"`
	RunningTime        *metav1.Time       `json:"runningTime,omitempty"`
	CompletionTime     *metav1.Time       `json:"completionTime,omitempty"`
	ExitCode           *int32             `json:"exitCode,omitempty"`
	Reason             string             `json:"reason,omitempty"`
	Message            string             `json:"message,omitempty"`
	NextRetryTime      *metav1.Time       `json:"nextRetryTime,omitempty"`
	ObservedGeneration int64              `json:"observedGeneration,omitempty"`
	Conditions         []metav1.Condition `json:"conditions,omitempty"`
}

type Session struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`
	Spec              SessionSpec   `json:"spec,omitempty"`
	Status            SessionStatus `json:"status,omitempty"`
}

type SessionList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []Session `json:"items"`
}

func addToScheme(s *runtime.Scheme) error {
	s.AddKnownTypes(groupVersion, &Session{}, &SessionList{})
	metav1.AddToGroupVersion(s, groupVersion)
	return nil
}

// Deep copies, written out as controller-gen would generate them.

func (in *SessionTemplate) DeepCopy() *SessionTemplate {
	if in == nil {
		return nil
	}
	out := *in
	out.Command = append([]string(nil), in.Command...)
	out.Args = append([]string(nil), in.Args...)
	if in.Env != nil {
		out.Env = make([]corev1.EnvVar, len(in.Env))
		for i := range in.Env {
			in.Env[i].DeepCopyInto(&out.Env[i])
		}
	}
	if in.EnvFrom != nil {
		out.EnvFrom = make([]corev1.EnvFromSource, len(in.EnvFrom))
		for i := range in.EnvFrom {
			in.EnvFrom[i].DeepCopyInto(&out.EnvFrom[i])
		}
	}
	out.Resources = in.Resources.DeepCopy()
	out.NodeSelector = copyMap(in.NodeSelector)
	if in.Tolerations != nil {
		out.Tolerations = make([]corev1.Toleration, len(in.Tolerations))
		for i := range in.Tolerations {
			in.Tolerations[i].DeepCopyInto(&out.Tolerations[i])
		}
	}
	out.Labels = copyMap(in.Labels)
	out.Annotations = copyMap(in.Annotations)
	return &out
}

func copyMap(in map[string]string) map[string]string {
	if in == nil {
		return nil
	}
	out := make(map[string]string, len(in))
	for k, v := range in {
		out[k] = v
	}
	return out
}

func copyInt32(p *int32) *int32 {
	if p == nil {
		return nil
	}
	v := *p
	return &v
}

func (in *SessionSpec) DeepCopyInto(out *SessionSpec) {
	*out = *in
	out.Template = in.Template.DeepCopy()
	out.Input = in.Input.DeepCopy()
	out.StartTimeoutSeconds = copyInt32(in.StartTimeoutSeconds)
	out.TimeoutSeconds = copyInt32(in.TimeoutSeconds)
	out.TTLSecondsAfterFinished = copyInt32(in.TTLSecondsAfterFinished)
	if in.Retry != nil {
		r := *in.Retry
		r.Limit = copyInt32(in.Retry.Limit)
		r.OnExitCodes = append([]int32(nil), in.Retry.OnExitCodes...)
		if in.Retry.Backoff != nil {
			b := RetryBackoff{
				InitialSeconds: copyInt32(in.Retry.Backoff.InitialSeconds),
				Factor:         copyInt32(in.Retry.Backoff.Factor),
				MaxSeconds:     copyInt32(in.Retry.Backoff.MaxSeconds),
			}
			r.Backoff = &b
		}
		out.Retry = &r
	}
}

func (in *SessionStatus) DeepCopyInto(out *SessionStatus) {
	*out = *in
	out.StartTime = in.StartTime.DeepCopy()
	out.RunningTime = in.RunningTime.DeepCopy()
	out.CompletionTime = in.CompletionTime.DeepCopy()
	out.NextRetryTime = in.NextRetryTime.DeepCopy()
	out.ExitCode = copyInt32(in.ExitCode)
	if in.Conditions != nil {
		out.Conditions = make([]metav1.Condition, len(in.Conditions))
		for i := range in.Conditions {
			in.Conditions[i].DeepCopyInto(&out.Conditions[i])
		}
	}
}

func (in *Session) DeepCopyInto(out *Session) {
	*out = *in
	out.TypeMeta = in.TypeMeta
	in.ObjectMeta.DeepCopyInto(&out.ObjectMeta)
	in.Spec.DeepCopyInto(&out.Spec)
	in.Status.DeepCopyInto(&out.Status)
}

func (in *Session) DeepCopy() *Session {
	if in == nil {
		return nil
	}
	out := new(Session)
	in.DeepCopyInto(out)
	return out
}

func (in *Session) DeepCopyObject() runtime.Object { return in.DeepCopy() }

func (in *SessionList) DeepCopyObject() runtime.Object {
	if in == nil {
		return nil
	}
	out := new(SessionList)
	out.TypeMeta = in.TypeMeta
	in.ListMeta.DeepCopyInto(&out.ListMeta)
	if in.Items != nil {
		out.Items = make([]Session, len(in.Items))
		for i := range in.Items {
			in.Items[i].DeepCopyInto(&out.Items[i])
		}
	}
	return out
}

// Job is batch/v1's; kept here so the reconciler reads like a kubebuilder project.
type Job = batchv1.Job
