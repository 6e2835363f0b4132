package main

import (
	"context"
	"fmt"
	"time"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/tools/events"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller/controllerutil"
)

// SessionReconciler drives a Session through the happy path the benchmark exercises, written
// the way a kubebuilder project writes it: read from the cache, get-or-create the owned Job,
// patch the status subresource with a merge patch under optimistic locking, record an Event
// per phase change.
//
//	(new) → Starting (Job created) → Running (pod seen running) → Succeeded | Failed
//
// It does not retry failed attempts, time attempts out, cancel, clean up after a TTL or check
// who owns a Job it finds: see README.md.
type SessionReconciler struct {
	client.Client
	Recorder    events.EventRecorder
	RunnerImage string
}

const staleRetry = 50 * time.Millisecond

func terminal(phase string) bool {
	switch phase {
	case "Succeeded", "Failed", "TimedOut", "Cancelled":
		return true
	}
	return false
}

func (r *SessionReconciler) Reconcile(ctx context.Context, req ctrl.Request) (ctrl.Result, error) {
	var s Session
	if err := r.Get(ctx, req.NamespacedName, &s); err != nil {
		return ctrl.Result{}, client.IgnoreNotFound(err)
	}
	if !s.DeletionTimestamp.IsZero() || terminal(s.Status.Phase) {
		return ctrl.Result{}, nil
	}
	switch s.Status.Phase {
	case "", "Pending":
		return r.start(ctx, &s)
	default: // Starting, Running
		return r.follow(ctx, &s)
	}
}

// start creates the attempt's Job unless the cache already has it, then moves to Starting.
func (r *SessionReconciler) start(ctx context.Context, s *Session) (ctrl.Result, error) {
	attempt := s.Status.Attempt + 1
	job := buildJob(s, attempt, r.RunnerImage)
	var found batchv1.Job
	err := r.Get(ctx, types.NamespacedName{Namespace: job.Namespace, Name: job.Name}, &found)
	if apierrors.IsNotFound(err) {
		if err := controllerutil.SetControllerReference(s, job, r.Scheme()); err != nil {
			return ctrl.Result{}, err
		}
		if err := r.Create(ctx, job); err != nil && !apierrors.IsAlreadyExists(err) {
			if apierrors.IsInvalid(err) || apierrors.IsBadRequest(err) {
				return r.transition(ctx, s, "Failed", "JobRejected",
					fmt.Sprintf("The API server rejected Job %s: %v", job.Name, err), nil)
			}
			return ctrl.Result{}, err
		}
	} else if err != nil {
		return ctrl.Result{}, err
	}
	now := metav1.Now()
	return r.transition(ctx, s, "Starting", "JobCreated",
		fmt.Sprintf("Created Job %s for attempt %d", job.Name, attempt),
		func(st *SessionStatus) {
			st.Attempt = attempt
			st.JobName = job.Name
			if st.StartTime == nil {
				st.StartTime = &now
			}
		})
}

// follow reads the attempt's Job and pod from the cache and moves on when they say so.
func (r *SessionReconciler) follow(ctx context.Context, s *Session) (ctrl.Result, error) {
	var job batchv1.Job
	if err := r.Get(ctx, types.NamespacedName{Namespace: s.Namespace, Name: s.Status.JobName}, &job); err != nil {
		// Not in the cache yet: its create event will bring us back.
		return ctrl.Result{}, client.IgnoreNotFound(err)
	}
	finished, cond := jobFinished(&job)
	pod, err := r.pod(ctx, s)
	if err != nil {
		return ctrl.Result{}, err
	}
	exitCode := func() *int32 {
		if pod == nil {
			return nil
		}
		for _, c := range pod.Status.ContainerStatuses {
			if c.State.Terminated != nil {
				v := c.State.Terminated.ExitCode
				return &v
			}
		}
		return nil
	}
	now := metav1.Now()
	switch finished {
	case batchv1.JobComplete:
		return r.transition(ctx, s, "Succeeded", "Completed", fmt.Sprintf("Job %s completed", job.Name),
			func(st *SessionStatus) {
				st.ExitCode = exitCode()
				if st.ExitCode == nil {
					zero := int32(0)
					st.ExitCode = &zero
				}
				st.CompletionTime = &now
			})
	case batchv1.JobFailed:
		return r.transition(ctx, s, "Failed", cond.Reason,
			fmt.Sprintf("Attempt %d failed: %s", s.Status.Attempt, cond.Message),
			func(st *SessionStatus) { st.ExitCode = exitCode(); st.CompletionTime = &now })
	}
	if s.Status.Phase == "Starting" && pod != nil && pod.Status.Phase == corev1.PodRunning {
		return r.transition(ctx, s, "Running", "PodRunning",
			fmt.Sprintf("Attempt %d is running", s.Status.Attempt),
			func(st *SessionStatus) { st.RunningTime = &now })
	}
	return ctrl.Result{}, nil
}

// pod is the attempt's pod from the cache, if there is one.
func (r *SessionReconciler) pod(ctx context.Context, s *Session) (*corev1.Pod, error) {
	var pods corev1.PodList
	err := r.List(ctx, &pods, client.InNamespace(s.Namespace), client.MatchingLabels{
		labelSession: sessionLabelValue(s.Name),
		labelAttempt: fmt.Sprint(s.Status.Attempt),
	})
	if err != nil || len(pods.Items) == 0 {
		return nil, err
	}
	return &pods.Items[0], nil
}

// transition patches the status subresource (conditional on the resourceVersion read) and
// records an Event.
func (r *SessionReconciler) transition(ctx context.Context, s *Session, phase, reason, message string,
	mutate func(*SessionStatus)) (ctrl.Result, error) {
	orig := s.DeepCopy()
	st := &s.Status
	st.Phase, st.Reason, st.Message, st.ObservedGeneration = phase, reason, message, s.Generation
	if mutate != nil {
		mutate(st)
	}
	running, finished := metav1.ConditionFalse, metav1.ConditionFalse
	finishedReason := reason
	if phase == "Running" {
		running = metav1.ConditionTrue
	}
	if terminal(phase) {
		finished, finishedReason = metav1.ConditionTrue, phase
	}
	meta.SetStatusCondition(&st.Conditions, metav1.Condition{Type: "Running", Status: running,
		Reason: reason, Message: message, ObservedGeneration: s.Generation})
	meta.SetStatusCondition(&st.Conditions, metav1.Condition{Type: "Finished", Status: finished,
		Reason: finishedReason, Message: message, ObservedGeneration: s.Generation})
	patch := client.MergeFromWithOptions(orig, client.MergeFromWithOptimisticLock{})
	if err := r.Status().Patch(ctx, s, patch); err != nil {
		if apierrors.IsConflict(err) {
			// The cache had not caught up with our previous write: look again shortly.
			return ctrl.Result{RequeueAfter: staleRetry}, nil
		}
		return ctrl.Result{}, err
	}
	eventType := corev1.EventTypeNormal
	if phase == "Failed" || phase == "TimedOut" {
		eventType = corev1.EventTypeWarning
	}
	r.Recorder.Eventf(s, nil, eventType, reason, phase, "%s", message)
	return ctrl.Result{}, nil
}
