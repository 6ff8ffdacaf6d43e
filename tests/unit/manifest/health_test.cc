#include "operator/manifest/health.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>

namespace gantry::manifest {
namespace {

using nlohmann::json;
using ::testing::HasSubstr;

struct HealthCase {
  std::string name;
  std::string object;  // JSON text of the live object
  Health want;
  std::string message_part;  // expected substring of the message ("" for any)
};

std::ostream& operator<<(std::ostream& os, const HealthCase& c) { return os << c.name; }

class ComputeHealthTest : public ::testing::TestWithParam<HealthCase> {};

TEST_P(ComputeHealthTest, Computes) {
  const HealthCase& c = GetParam();
  json live = json::parse(c.object);
  HealthStatus got = ComputeHealth(live);
  EXPECT_EQ(HealthName(got.status), HealthName(c.want)) << got.message;
  EXPECT_THAT(got.message, HasSubstr(c.message_part));
}

std::string Name(const ::testing::TestParamInfo<HealthCase>& info) { return info.param.name; }

INSTANTIATE_TEST_SUITE_P(
    Deployment, ComputeHealthTest,
    ::testing::Values(
        HealthCase{"Available", R"({"apiVersion": "apps/v1", "kind": "Deployment",
          "metadata": {"name": "web", "generation": 4},
          "spec": {"replicas": 3},
          "status": {"observedGeneration": 4, "replicas": 3, "updatedReplicas": 3,
                     "readyReplicas": 3, "availableReplicas": 3,
                     "conditions": [{"type": "Available", "status": "True"},
                                    {"type": "Progressing", "status": "True",
                                     "reason": "NewReplicaSetAvailable"}]}})",
                   Health::kHealthy, ""},
        HealthCase{"GenerationNotObserved", R"({"apiVersion": "apps/v1", "kind": "Deployment",
          "metadata": {"generation": 5}, "spec": {"replicas": 3},
          "status": {"observedGeneration": 4, "replicas": 3, "updatedReplicas": 3,
                     "availableReplicas": 3}})",
                   Health::kProgressing, "not yet observed"},
        HealthCase{"UpdatingReplicas", R"({"apiVersion": "apps/v1", "kind": "Deployment",
          "metadata": {"generation": 2}, "spec": {"replicas": 3},
          "status": {"observedGeneration": 2, "replicas": 4, "updatedReplicas": 1,
                     "availableReplicas": 3}})",
                   Health::kProgressing, "1 out of 3 new replicas have been updated"},
        HealthCase{"OldReplicasTerminating", R"({"apiVersion": "apps/v1", "kind": "Deployment",
          "metadata": {"generation": 2}, "spec": {"replicas": 3},
          "status": {"observedGeneration": 2, "replicas": 4, "updatedReplicas": 3,
                     "availableReplicas": 3}})",
                   Health::kProgressing, "1 old replicas are pending termination"},
        HealthCase{"WaitingForAvailability", R"({"apiVersion": "apps/v1", "kind": "Deployment",
          "metadata": {"generation": 2}, "spec": {"replicas": 3},
          "status": {"observedGeneration": 2, "replicas": 3, "updatedReplicas": 3,
                     "availableReplicas": 1}})",
                   Health::kProgressing, "1 of 3 updated replicas are available"},
        HealthCase{"DefaultOneReplica", R"({"apiVersion": "apps/v1", "kind": "Deployment",
          "metadata": {"generation": 1}, "spec": {},
          "status": {"observedGeneration": 1}})",
                   Health::kProgressing, "0 out of 1 new replicas"},
        HealthCase{"ScaledToZero", R"({"apiVersion": "apps/v1", "kind": "Deployment",
          "metadata": {"generation": 3}, "spec": {"replicas": 0},
          "status": {"observedGeneration": 3}})",
                   Health::kHealthy, ""},
        HealthCase{"ProgressDeadlineExceeded", R"({"apiVersion": "apps/v1", "kind": "Deployment",
          "metadata": {"generation": 2}, "spec": {"replicas": 2},
          "status": {"observedGeneration": 2, "replicas": 3, "updatedReplicas": 1,
                     "availableReplicas": 2,
                     "conditions": [{"type": "Progressing", "status": "False",
                                     "reason": "ProgressDeadlineExceeded",
                                     "message": "ReplicaSet \"web-7d9\" has timed out progressing."}]}})",
                   Health::kDegraded, "exceeded its progress deadline: ReplicaSet"},
        HealthCase{"Paused", R"({"apiVersion": "apps/v1", "kind": "Deployment",
          "metadata": {"generation": 2}, "spec": {"replicas": 2, "paused": true},
          "status": {"observedGeneration": 1}})",
                   Health::kSuspended, "paused"}),
    Name);

INSTANTIATE_TEST_SUITE_P(
    StatefulSet, ComputeHealthTest,
    ::testing::Values(
        HealthCase{"RolledOut", R"({"apiVersion": "apps/v1", "kind": "StatefulSet",
          "metadata": {"generation": 2}, "spec": {"replicas": 3,
            "updateStrategy": {"type": "RollingUpdate"}},
          "status": {"observedGeneration": 2, "replicas": 3, "readyReplicas": 3,
                     "currentReplicas": 3, "updatedReplicas": 3,
                     "currentRevision": "db-5c7", "updateRevision": "db-5c7"}})",
                   Health::kHealthy, "rolling update complete: 3 pods at revision db-5c7"},
        HealthCase{"NotObserved", R"({"apiVersion": "apps/v1", "kind": "StatefulSet",
          "metadata": {"generation": 1}, "spec": {"replicas": 1}, "status": {}})",
                   Health::kProgressing, "spec update to be observed"},
        HealthCase{"PodsNotReady", R"({"apiVersion": "apps/v1", "kind": "StatefulSet",
          "metadata": {"generation": 1}, "spec": {"replicas": 3},
          "status": {"observedGeneration": 1, "replicas": 3, "readyReplicas": 1}})",
                   Health::kProgressing, "Waiting for 2 pods to be ready"},
        HealthCase{"RevisionsDiffer", R"({"apiVersion": "apps/v1", "kind": "StatefulSet",
          "metadata": {"generation": 3}, "spec": {"replicas": 3},
          "status": {"observedGeneration": 3, "replicas": 3, "readyReplicas": 3,
                     "updatedReplicas": 1, "currentRevision": "db-1", "updateRevision": "db-2"}})",
                   Health::kProgressing, "1 pods at revision db-2"},
        HealthCase{"PartitionPending", R"({"apiVersion": "apps/v1", "kind": "StatefulSet",
          "metadata": {"generation": 3}, "spec": {"replicas": 5,
            "updateStrategy": {"type": "RollingUpdate", "rollingUpdate": {"partition": 3}}},
          "status": {"observedGeneration": 3, "replicas": 5, "readyReplicas": 5,
                     "updatedReplicas": 1, "currentRevision": "db-1", "updateRevision": "db-2"}})",
                   Health::kProgressing, "partitioned roll out to finish: 1 out of 2"},
        HealthCase{"PartitionDone", R"({"apiVersion": "apps/v1", "kind": "StatefulSet",
          "metadata": {"generation": 3}, "spec": {"replicas": 5,
            "updateStrategy": {"type": "RollingUpdate", "rollingUpdate": {"partition": 3}}},
          "status": {"observedGeneration": 3, "replicas": 5, "readyReplicas": 5,
                     "updatedReplicas": 2, "currentRevision": "db-1", "updateRevision": "db-2"}})",
                   Health::kHealthy, "partitioned roll out complete"},
        HealthCase{"OnDelete", R"({"apiVersion": "apps/v1", "kind": "StatefulSet",
          "metadata": {"generation": 3}, "spec": {"replicas": 2,
            "updateStrategy": {"type": "OnDelete"}},
          "status": {"observedGeneration": 3, "replicas": 2, "readyReplicas": 2,
                     "currentRevision": "db-1", "updateRevision": "db-2"}})",
                   Health::kHealthy, "OnDelete"}),
    Name);

INSTANTIATE_TEST_SUITE_P(
    DaemonSet, ComputeHealthTest,
    ::testing::Values(HealthCase{"Complete", R"({"apiVersion": "apps/v1", "kind": "DaemonSet",
          "metadata": {"generation": 1},
          "status": {"observedGeneration": 1, "desiredNumberScheduled": 3,
                     "currentNumberScheduled": 3, "updatedNumberScheduled": 3,
                     "numberAvailable": 3, "numberReady": 3}})",
                                 Health::kHealthy, ""},
                      HealthCase{"NotObserved", R"({"apiVersion": "apps/v1", "kind": "DaemonSet",
          "metadata": {"generation": 2}, "status": {"observedGeneration": 1}})",
                                 Health::kProgressing, "spec update to be observed"},
                      HealthCase{"Updating", R"({"apiVersion": "apps/v1", "kind": "DaemonSet",
          "metadata": {"generation": 2},
          "status": {"observedGeneration": 2, "desiredNumberScheduled": 3,
                     "updatedNumberScheduled": 1, "numberAvailable": 3}})",
                                 Health::kProgressing, "1 out of 3 new pods have been updated"},
                      HealthCase{"Unavailable", R"({"apiVersion": "apps/v1", "kind": "DaemonSet",
          "metadata": {"generation": 2},
          "status": {"observedGeneration": 2, "desiredNumberScheduled": 3,
                     "updatedNumberScheduled": 3, "numberAvailable": 2}})",
                                 Health::kProgressing, "2 of 3 updated pods are available"},
                      HealthCase{"OnDelete", R"({"apiVersion": "apps/v1", "kind": "DaemonSet",
          "metadata": {"generation": 2}, "spec": {"updateStrategy": {"type": "OnDelete"}},
          "status": {"observedGeneration": 2, "desiredNumberScheduled": 3,
                     "updatedNumberScheduled": 0, "numberAvailable": 3}})",
                                 Health::kHealthy, "0 out of 3"}),
    Name);

INSTANTIATE_TEST_SUITE_P(
    ReplicaSet, ComputeHealthTest,
    ::testing::Values(HealthCase{"Available", R"({"apiVersion": "apps/v1", "kind": "ReplicaSet",
          "metadata": {"generation": 1}, "spec": {"replicas": 2},
          "status": {"observedGeneration": 1, "replicas": 2, "availableReplicas": 2}})",
                                 Health::kHealthy, ""},
                      HealthCase{"Waiting", R"({"apiVersion": "apps/v1", "kind": "ReplicaSet",
          "metadata": {"generation": 1}, "spec": {"replicas": 2},
          "status": {"observedGeneration": 1, "replicas": 2, "availableReplicas": 1}})",
                                 Health::kProgressing, "1 out of 2 new replicas are available"},
                      HealthCase{"NotObserved", R"({"apiVersion": "apps/v1", "kind": "ReplicaSet",
          "metadata": {"generation": 2}, "spec": {"replicas": 2},
          "status": {"observedGeneration": 1}})",
                                 Health::kProgressing, "not yet observed"},
                      HealthCase{"ReplicaFailure",
                                 R"({"apiVersion": "apps/v1", "kind": "ReplicaSet",
          "metadata": {"generation": 1}, "spec": {"replicas": 2},
          "status": {"observedGeneration": 1, "replicas": 0,
            "conditions": [{"type": "ReplicaFailure", "status": "True", "reason": "FailedCreate",
              "message": "pods \"web-\" is forbidden: exceeded quota"}]}})",
                                 Health::kDegraded, "FailedCreate: pods \"web-\" is forbidden"}),
    Name);

INSTANTIATE_TEST_SUITE_P(
    Pod, ComputeHealthTest,
    ::testing::Values(
        HealthCase{"RunningReady", R"({"apiVersion": "v1", "kind": "Pod",
          "spec": {"restartPolicy": "Always"},
          "status": {"phase": "Running",
            "conditions": [{"type": "Ready", "status": "True"}],
            "containerStatuses": [{"name": "web", "ready": true, "restartCount": 0,
              "state": {"running": {"startedAt": "2024-01-01T00:00:00Z"}}}]}})",
                   Health::kHealthy, ""},
        HealthCase{"Pending", R"({"apiVersion": "v1", "kind": "Pod", "spec": {},
          "status": {"phase": "Pending"}})",
                   Health::kProgressing, "Pod is pending"},
        HealthCase{"PendingWithMessage", R"({"apiVersion": "v1", "kind": "Pod", "spec": {},
          "status": {"phase": "Pending", "message": "0/3 nodes are available"}})",
                   Health::kProgressing, "0/3 nodes are available"},
        HealthCase{"CrashLoopBackOff", R"({"apiVersion": "v1", "kind": "Pod", "spec": {},
          "status": {"phase": "Running",
            "conditions": [{"type": "Ready", "status": "False"}],
            "containerStatuses": [{"name": "web", "ready": false, "restartCount": 5,
              "state": {"waiting": {"reason": "CrashLoopBackOff",
                "message": "back-off 2m40s restarting failed container=web"}},
              "lastState": {"terminated": {"exitCode": 1, "reason": "Error"}}}]}})",
                   Health::kDegraded,
                   "container \"web\": CrashLoopBackOff: back-off 2m40s restarting"},
        HealthCase{"ImagePullBackOff", R"({"apiVersion": "v1", "kind": "Pod", "spec": {},
          "status": {"phase": "Pending",
            "containerStatuses": [{"name": "web", "ready": false,
              "state": {"waiting": {"reason": "ImagePullBackOff",
                "message": "Back-off pulling image \"ghcr.io/example/web:typo\""}}}]}})",
                   Health::kDegraded, "ImagePullBackOff"},
        HealthCase{"InitContainerErrImagePull", R"({"apiVersion": "v1", "kind": "Pod",
          "spec": {}, "status": {"phase": "Pending",
            "initContainerStatuses": [{"name": "migrate",
              "state": {"waiting": {"reason": "ErrImagePull"}}}]}})",
                   Health::kDegraded, "container \"migrate\": ErrImagePull"},
        HealthCase{"CreateContainerConfigError", R"({"apiVersion": "v1", "kind": "Pod",
          "spec": {}, "status": {"phase": "Pending",
            "containerStatuses": [{"name": "web", "state": {"waiting": {
              "reason": "CreateContainerConfigError",
              "message": "secret \"db\" not found"}}}]}})",
                   Health::kDegraded, "secret \"db\" not found"},
        HealthCase{"ContainerCreatingIsNotDegraded", R"({"apiVersion": "v1", "kind": "Pod",
          "spec": {}, "status": {"phase": "Pending",
            "containerStatuses": [{"name": "web",
              "state": {"waiting": {"reason": "ContainerCreating"}}}]}})",
                   Health::kProgressing, ""},
        HealthCase{"BackOffIgnoredForNeverRestart", R"({"apiVersion": "v1", "kind": "Pod",
          "spec": {"restartPolicy": "Never"}, "status": {"phase": "Pending",
            "containerStatuses": [{"name": "hook",
              "state": {"waiting": {"reason": "ImagePullBackOff"}}}]}})",
                   Health::kProgressing, ""},
        HealthCase{"RunningNotReadyAfterRestart", R"({"apiVersion": "v1", "kind": "Pod",
          "spec": {}, "status": {"phase": "Running",
            "conditions": [{"type": "Ready", "status": "False"}],
            "containerStatuses": [{"name": "web", "ready": false,
              "state": {"running": {}},
              "lastState": {"terminated": {"exitCode": 137, "reason": "OOMKilled"}}}]}})",
                   Health::kDegraded, "has restarted (last exit code 137)"},
        HealthCase{"RunningNotReadyYet", R"({"apiVersion": "v1", "kind": "Pod", "spec": {},
          "status": {"phase": "Running",
            "conditions": [{"type": "Ready", "status": "False"}],
            "containerStatuses": [{"name": "web", "ready": false, "state": {"running": {}}}]}})",
                   Health::kProgressing, "Waiting for containers to become ready"},
        HealthCase{"RunningFinitePod", R"({"apiVersion": "v1", "kind": "Pod",
          "spec": {"restartPolicy": "OnFailure"}, "status": {"phase": "Running",
            "conditions": [{"type": "Ready", "status": "True"}]}})",
                   Health::kProgressing, "Pod is running"},
        HealthCase{"Succeeded", R"({"apiVersion": "v1", "kind": "Pod",
          "spec": {"restartPolicy": "Never"}, "status": {"phase": "Succeeded"}})",
                   Health::kHealthy, "completed"},
        HealthCase{"FailedWithPodMessage", R"({"apiVersion": "v1", "kind": "Pod",
          "spec": {"restartPolicy": "Never"}, "status": {"phase": "Failed",
            "message": "Pod was rejected: Node didn't have enough resource: memory"}})",
                   Health::kDegraded, "Node didn't have enough resource"},
        HealthCase{"FailedExitCode", R"({"apiVersion": "v1", "kind": "Pod",
          "spec": {"restartPolicy": "Never"}, "status": {"phase": "Failed",
            "containerStatuses": [{"name": "job",
              "state": {"terminated": {"exitCode": 2, "reason": "Error"}}}]}})",
                   Health::kDegraded, "container \"job\" failed with exit code 2"},
        HealthCase{"FailedOOMKilled", R"({"apiVersion": "v1", "kind": "Pod",
          "spec": {"restartPolicy": "Never"}, "status": {"phase": "Failed",
            "containerStatuses": [{"name": "job",
              "state": {"terminated": {"exitCode": 137, "reason": "OOMKilled"}}}]}})",
                   Health::kDegraded, "OOMKilled"},
        HealthCase{"FailedTerminationMessage", R"({"apiVersion": "v1", "kind": "Pod",
          "spec": {"restartPolicy": "Never"}, "status": {"phase": "Failed",
            "containerStatuses": [{"name": "job", "state": {"terminated": {"exitCode": 1,
              "message": "database unreachable"}}}]}})",
                   Health::kDegraded, "database unreachable"},
        HealthCase{"UnknownPhase", R"({"apiVersion": "v1", "kind": "Pod", "spec": {},
          "status": {"phase": "Unknown"}})",
                   Health::kUnknown, "Unknown"}),
    Name);

INSTANTIATE_TEST_SUITE_P(
    Job, ComputeHealthTest,
    ::testing::Values(HealthCase{"Complete", R"({"apiVersion": "batch/v1", "kind": "Job",
          "status": {"succeeded": 1, "conditions": [{"type": "Complete", "status": "True"}]}})",
                                 Health::kHealthy, ""},
                      HealthCase{"Failed", R"({"apiVersion": "batch/v1", "kind": "Job",
          "status": {"failed": 6, "conditions": [{"type": "Failed", "status": "True",
            "reason": "BackoffLimitExceeded",
            "message": "Job has reached the specified backoff limit"}]}})",
                                 Health::kDegraded, "BackoffLimitExceeded: Job has reached"},
                      HealthCase{"Running", R"({"apiVersion": "batch/v1", "kind": "Job",
          "status": {"active": 1}})",
                                 Health::kProgressing, "1 active pods"},
                      HealthCase{"SuspendedBySpec", R"({"apiVersion": "batch/v1", "kind": "Job",
          "spec": {"suspend": true}, "status": {}})",
                                 Health::kSuspended, "suspended"},
                      HealthCase{"SuspendedCondition", R"({"apiVersion": "batch/v1", "kind": "Job",
          "status": {"conditions": [{"type": "Suspended", "status": "True",
            "message": "Job suspended"}]}})",
                                 Health::kSuspended, "Job suspended"},
                      HealthCase{"ResumedConditionFalse",
                                 R"({"apiVersion": "batch/v1", "kind": "Job",
          "status": {"active": 2, "conditions": [{"type": "Suspended", "status": "False"}]}})",
                                 Health::kProgressing, "2 active"},
                      HealthCase{"CronJobActive", R"({"apiVersion": "batch/v1", "kind": "CronJob",
          "spec": {"schedule": "*/5 * * * *"}})",
                                 Health::kHealthy, ""},
                      HealthCase{"CronJobSuspended",
                                 R"({"apiVersion": "batch/v1", "kind": "CronJob",
          "spec": {"schedule": "*/5 * * * *", "suspend": true}})",
                                 Health::kSuspended, "suspended"}),
    Name);

INSTANTIATE_TEST_SUITE_P(
    Networking, ComputeHealthTest,
    ::testing::Values(
        HealthCase{"ClusterIPService", R"({"apiVersion": "v1", "kind": "Service",
          "spec": {"type": "ClusterIP"}, "status": {"loadBalancer": {}}})",
                   Health::kHealthy, ""},
        HealthCase{"LoadBalancerWithAddress", R"({"apiVersion": "v1", "kind": "Service",
          "spec": {"type": "LoadBalancer"},
          "status": {"loadBalancer": {"ingress": [{"ip": "203.0.113.7"}]}}})",
                   Health::kHealthy, ""},
        HealthCase{"LoadBalancerWaiting", R"({"apiVersion": "v1", "kind": "Service",
          "spec": {"type": "LoadBalancer"}, "status": {"loadBalancer": {}}})",
                   Health::kProgressing, "load balancer"},
        HealthCase{"IngressWithAddress", R"({"apiVersion": "networking.k8s.io/v1",
          "kind": "Ingress", "status": {"loadBalancer": {"ingress": [{"hostname": "lb.example"}]}}})",
                   Health::kHealthy, ""},
        HealthCase{"IngressWithoutAddress", R"({"apiVersion": "networking.k8s.io/v1",
          "kind": "Ingress", "status": {"loadBalancer": {}}})",
                   Health::kHealthy, "no load-balancer address"},
        HealthCase{"PvcBound", R"({"apiVersion": "v1", "kind": "PersistentVolumeClaim",
          "status": {"phase": "Bound", "capacity": {"storage": "1Gi"}}})",
                   Health::kHealthy, ""},
        HealthCase{"PvcPending", R"({"apiVersion": "v1", "kind": "PersistentVolumeClaim",
          "status": {"phase": "Pending"}})",
                   Health::kProgressing, "bound"},
        HealthCase{"PvcLost", R"({"apiVersion": "v1", "kind": "PersistentVolumeClaim",
          "status": {"phase": "Lost"}})",
                   Health::kDegraded, "lost"}),
    Name);

INSTANTIATE_TEST_SUITE_P(
    HorizontalPodAutoscaler, ComputeHealthTest,
    ::testing::Values(HealthCase{"AbleToScale", R"({"apiVersion": "autoscaling/v2",
          "kind": "HorizontalPodAutoscaler", "status": {"conditions": [
            {"type": "AbleToScale", "status": "True", "reason": "ReadyForNewScale",
             "message": "recommended size matches current size"},
            {"type": "ScalingActive", "status": "True", "reason": "ValidMetricFound"},
            {"type": "ScalingLimited", "status": "False", "reason": "DesiredWithinRange"}]}})",
                                 Health::kHealthy, "recommended size"},
                      HealthCase{"MetricsUnavailable", R"({"apiVersion": "autoscaling/v2",
          "kind": "HorizontalPodAutoscaler", "status": {"conditions": [
            {"type": "AbleToScale", "status": "True", "reason": "SucceededGetScale"},
            {"type": "ScalingActive", "status": "False", "reason": "FailedGetResourceMetric",
             "message": "unable to get metrics for resource cpu"}]}})",
                                 Health::kDegraded,
                                 "FailedGetResourceMetric: unable to get metrics"},
                      HealthCase{"CannotGetScale", R"({"apiVersion": "autoscaling/v2",
          "kind": "HorizontalPodAutoscaler", "status": {"conditions": [
            {"type": "AbleToScale", "status": "False", "reason": "FailedGetScale",
             "message": "deployments/scale.apps \"web\" not found"}]}})",
                                 Health::kDegraded, "FailedGetScale"},
                      HealthCase{"ScalingDisabled", R"({"apiVersion": "autoscaling/v2",
          "kind": "HorizontalPodAutoscaler", "status": {"conditions": [
            {"type": "AbleToScale", "status": "True"},
            {"type": "ScalingActive", "status": "False", "reason": "ScalingDisabled",
             "message": "scaling is disabled since the replica count of the target is zero"}]}})",
                                 Health::kSuspended, "replica count of the target is zero"},
                      HealthCase{"NoConditionsYet", R"({"apiVersion": "autoscaling/v2",
          "kind": "HorizontalPodAutoscaler", "status": {"currentReplicas": 1}})",
                                 Health::kProgressing, "conditions"},
                      HealthCase{"V1Annotation", R"({"apiVersion": "autoscaling/v1",
          "kind": "HorizontalPodAutoscaler", "metadata": {"annotations": {
            "autoscaling.alpha.kubernetes.io/conditions":
              "[{\"type\":\"AbleToScale\",\"status\":\"True\",\"reason\":\"SucceededRescale\",\"message\":\"the HPA controller was able to update the target scale to 4\"}]"}},
          "status": {"currentReplicas": 4}})",
                                 Health::kHealthy, "update the target scale to 4"}),
    Name);

INSTANTIATE_TEST_SUITE_P(
    Rollout, ComputeHealthTest,
    ::testing::Values(
        HealthCase{"Healthy", R"({"apiVersion": "gantry.io/v1alpha1", "kind": "Rollout",
          "metadata": {"generation": 3},
          "status": {"observedGeneration": 3, "phase": "Healthy"}})",
                   Health::kHealthy, ""},
        HealthCase{"Progressing", R"({"apiVersion": "gantry.io/v1alpha1", "kind": "Rollout",
          "metadata": {"generation": 3}, "status": {"observedGeneration": 3,
            "phase": "Progressing", "message": "more replicas need to be updated"}})",
                   Health::kProgressing, "more replicas"},
        HealthCase{"Paused", R"({"apiVersion": "gantry.io/v1alpha1", "kind": "Rollout",
          "metadata": {"generation": 3}, "status": {"observedGeneration": 3,
            "phase": "Paused", "message": "CanaryPauseStep"}})",
                   Health::kSuspended, "CanaryPauseStep"},
        HealthCase{"Degraded", R"({"apiVersion": "gantry.io/v1alpha1", "kind": "Rollout",
          "metadata": {"generation": 3}, "status": {"observedGeneration": 3,
            "phase": "Degraded", "message": "RolloutAborted: metric \"errors\" assessed Failed"}})",
                   Health::kDegraded, "RolloutAborted"},
        HealthCase{"NotObserved", R"({"apiVersion": "gantry.io/v1alpha1", "kind": "Rollout",
          "metadata": {"generation": 4}, "status": {"observedGeneration": 3,
            "phase": "Healthy"}})",
                   Health::kProgressing, "observed"},
        HealthCase{"NoStatusYet", R"({"apiVersion": "gantry.io/v1alpha1", "kind": "Rollout",
          "metadata": {"generation": 1}})",
                   Health::kProgressing, "report status"},
        HealthCase{"ArgoStringGeneration", R"({"apiVersion": "argoproj.io/v1alpha1",
          "kind": "Rollout", "metadata": {"generation": 7},
          "status": {"observedGeneration": "6", "phase": "Healthy"}})",
                   Health::kProgressing, "observed"},
        HealthCase{"ArgoHashGenerationIgnored", R"({"apiVersion": "argoproj.io/v1alpha1",
          "kind": "Rollout", "metadata": {"generation": 7},
          "status": {"observedGeneration": "7d8f9c6b5", "phase": "Healthy"}})",
                   Health::kHealthy, ""},
        HealthCase{"StrangePhase", R"({"apiVersion": "gantry.io/v1alpha1", "kind": "Rollout",
          "status": {"phase": "Exploding"}})",
                   Health::kUnknown, "Exploding"}),
    Name);

INSTANTIATE_TEST_SUITE_P(
    GantryKinds, ComputeHealthTest,
    ::testing::Values(HealthCase{"ApplicationHealthy", R"({"apiVersion": "gantry.io/v1alpha1",
          "kind": "Application", "metadata": {"generation": 2},
          "status": {"observedGeneration": 2, "health": {"status": "Healthy"}}})",
                                 Health::kHealthy, ""},
                      HealthCase{"ApplicationDegraded", R"({"apiVersion": "gantry.io/v1alpha1",
          "kind": "Application", "metadata": {"generation": 2},
          "status": {"observedGeneration": 2, "health": {"status": "Degraded",
            "message": "Deployment shop/web: exceeded its progress deadline"}}})",
                                 Health::kDegraded, "Deployment shop/web"},
                      HealthCase{"ApplicationMissingResources",
                                 R"({"apiVersion": "gantry.io/v1alpha1",
          "kind": "Application", "status": {"health": {"status": "Missing"}}})",
                                 Health::kMissing, ""},
                      HealthCase{"ApplicationNotObserved", R"({"apiVersion": "gantry.io/v1alpha1",
          "kind": "Application", "metadata": {"generation": 3},
          "status": {"observedGeneration": 2, "health": {"status": "Healthy"}}})",
                                 Health::kProgressing, "observe"},
                      HealthCase{"ApplicationNoHealthYet", R"({"apiVersion": "gantry.io/v1alpha1",
          "kind": "Application", "status": {}})",
                                 Health::kProgressing, "report its health"},
                      HealthCase{"ApplicationSuspended", R"({"apiVersion": "gantry.io/v1alpha1",
          "kind": "Application", "spec": {"suspend": true},
          "status": {"health": {"status": "Healthy"}}})",
                                 Health::kSuspended, "suspended"},
                      HealthCase{"ApplicationBogusHealth", R"({"apiVersion": "gantry.io/v1alpha1",
          "kind": "Application", "status": {"health": {"status": "Great"}}})",
                                 Health::kUnknown, "Great"},
                      HealthCase{"AnalysisRunRunning", R"({"apiVersion": "gantry.io/v1alpha1",
          "kind": "AnalysisRun", "status": {"phase": "Running"}})",
                                 Health::kProgressing, ""},
                      HealthCase{"AnalysisRunSuccessful", R"({"apiVersion": "gantry.io/v1alpha1",
          "kind": "AnalysisRun", "status": {"phase": "Successful"}})",
                                 Health::kHealthy, ""},
                      HealthCase{"AnalysisRunFailed", R"({"apiVersion": "gantry.io/v1alpha1",
          "kind": "AnalysisRun", "status": {"phase": "Failed",
            "message": "metric \"error-rate\" assessed Failed: failed 3 times, limit 2"}})",
                                 Health::kDegraded, "error-rate"},
                      HealthCase{"AnalysisRunError", R"({"apiVersion": "argoproj.io/v1alpha1",
          "kind": "AnalysisRun", "status": {"phase": "Error"}})",
                                 Health::kDegraded, "errored"},
                      HealthCase{"AnalysisRunInconclusive", R"({"apiVersion": "gantry.io/v1alpha1",
          "kind": "AnalysisRun", "status": {"phase": "Inconclusive"}})",
                                 Health::kSuspended, "inconclusive"}),
    Name);

INSTANTIATE_TEST_SUITE_P(
    Definitions, ComputeHealthTest,
    ::testing::Values(
        HealthCase{"CrdEstablished", R"({"apiVersion": "apiextensions.k8s.io/v1",
          "kind": "CustomResourceDefinition", "status": {"conditions": [
            {"type": "NamesAccepted", "status": "True"},
            {"type": "Established", "status": "True"}]}})",
                   Health::kHealthy, ""},
        HealthCase{"CrdNotYetEstablished", R"({"apiVersion": "apiextensions.k8s.io/v1",
          "kind": "CustomResourceDefinition", "status": {"conditions": [
            {"type": "NamesAccepted", "status": "True"}]}})",
                   Health::kProgressing, "established"},
        HealthCase{"CrdNamesConflict", R"({"apiVersion": "apiextensions.k8s.io/v1",
          "kind": "CustomResourceDefinition", "status": {"conditions": [
            {"type": "NamesAccepted", "status": "False", "reason": "ListKindConflict",
             "message": "\"WidgetList\" is already in use"}]}})",
                   Health::kDegraded, "ListKindConflict"},
        HealthCase{"ApiServiceAvailable", R"({"apiVersion": "apiregistration.k8s.io/v1",
          "kind": "APIService", "status": {"conditions": [
            {"type": "Available", "status": "True"}]}})",
                   Health::kHealthy, ""},
        HealthCase{"ApiServiceUnavailable", R"({"apiVersion": "apiregistration.k8s.io/v1",
          "kind": "APIService", "status": {"conditions": [
            {"type": "Available", "status": "False", "reason": "MissingEndpoints",
             "message": "endpoints for service/metrics-server in \"kube-system\" have no addresses"}]}})",
                   Health::kProgressing, "MissingEndpoints"}),
    Name);

INSTANTIATE_TEST_SUITE_P(
    Kstatus, ComputeHealthTest,
    ::testing::Values(
        HealthCase{"ReadyTrue", R"({"apiVersion": "gantry.io/v1alpha1", "kind": "GitRepository",
          "metadata": {"generation": 2}, "status": {"observedGeneration": 2, "conditions": [
            {"type": "Ready", "status": "True", "reason": "Succeeded",
             "message": "stored artifact for revision main@sha1:4f2a"}]}})",
                   Health::kHealthy, "stored artifact"},
        HealthCase{"ReadyFalse", R"({"apiVersion": "gantry.io/v1alpha1", "kind": "GitRepository",
          "metadata": {"generation": 2}, "status": {"observedGeneration": 2, "conditions": [
            {"type": "Ready", "status": "False", "reason": "GitOperationFailed",
             "message": "authentication required"}]}})",
                   Health::kDegraded, "GitOperationFailed: authentication required"},
        HealthCase{"ReadyUnknown", R"({"apiVersion": "example.com/v1", "kind": "Widget",
          "status": {"conditions": [{"type": "Ready", "status": "Unknown"}]}})",
                   Health::kProgressing, ""},
        HealthCase{"Reconciling", R"({"apiVersion": "gantry.io/v1alpha1", "kind": "GitRepository",
          "metadata": {"generation": 2}, "status": {"observedGeneration": 2, "conditions": [
            {"type": "Reconciling", "status": "True", "reason": "Progressing",
             "message": "fetching revision"},
            {"type": "Ready", "status": "False", "reason": "Progressing"}]}})",
                   Health::kProgressing, "fetching revision"},
        HealthCase{"Stalled", R"({"apiVersion": "example.com/v1", "kind": "Widget",
          "status": {"conditions": [
            {"type": "Stalled", "status": "True", "reason": "InvalidSpec",
             "message": "spec.size must be positive"},
            {"type": "Reconciling", "status": "True"}]}})",
                   Health::kDegraded, "InvalidSpec: spec.size must be positive"},
        HealthCase{"GenerationBehind", R"({"apiVersion": "example.com/v1", "kind": "Widget",
          "metadata": {"generation": 5}, "status": {"observedGeneration": 4, "conditions": [
            {"type": "Ready", "status": "True"}]}})",
                   Health::kProgressing, "observe generation 5 (it has seen 4)"},
        HealthCase{"OtherConditionsOnly", R"({"apiVersion": "example.com/v1", "kind": "Widget",
          "status": {"conditions": [{"type": "Synced", "status": "False"}]}})",
                   Health::kHealthy, ""},
        HealthCase{"NoStatusNotion", R"({"apiVersion": "v1", "kind": "ConfigMap",
          "metadata": {"name": "cfg"}, "data": {"a": "b"}})",
                   Health::kHealthy, ""},
        HealthCase{"BeingDeleted", R"({"apiVersion": "v1", "kind": "ConfigMap",
          "metadata": {"name": "cfg", "deletionTimestamp": "2024-01-01T00:00:00Z",
                       "finalizers": ["example.com/cleanup"]}})",
                   Health::kProgressing, "Pending deletion"}),
    Name);

INSTANTIATE_TEST_SUITE_P(
    Robustness, ComputeHealthTest,
    ::testing::Values(HealthCase{"WrongTypesEverywhere",
                                 R"({"apiVersion": "apps/v1", "kind": "Deployment",
          "metadata": "oops", "spec": {"replicas": "three", "paused": "yes"},
          "status": {"observedGeneration": [], "replicas": null, "conditions": "none"}})",
                                 Health::kProgressing, ""},
                      HealthCase{"ConditionsNotObjects",
                                 R"({"apiVersion": "example.com/v1", "kind": "Widget",
          "status": {"conditions": [1, "two", null, {"type": 3}]}})",
                                 Health::kHealthy, ""},
                      HealthCase{"PodStatusesNotObjects", R"({"apiVersion": "v1", "kind": "Pod",
          "spec": [], "status": {"phase": "Running", "containerStatuses": [5, {"state": 1}]}})",
                                 Health::kProgressing, ""},
                      HealthCase{"HpaBadAnnotation", R"({"apiVersion": "autoscaling/v1",
          "kind": "HorizontalPodAutoscaler", "metadata": {"annotations": {
            "autoscaling.alpha.kubernetes.io/conditions": "{not json"}}})",
                                 Health::kProgressing, ""}),
    Name);

TEST(ComputeHealthTest, MissingAndNonObjects) {
  EXPECT_EQ(ComputeHealth(nullptr).status, Health::kMissing);
  EXPECT_EQ(ComputeHealth(json::array()).status, Health::kUnknown);
  EXPECT_EQ(ComputeHealth(json("text")).status, Health::kUnknown);
}

TEST(HealthNameTest, RoundTrips) {
  for (Health h : {Health::kHealthy, Health::kProgressing, Health::kDegraded, Health::kSuspended,
                   Health::kMissing, Health::kUnknown}) {
    EXPECT_EQ(ParseHealth(HealthName(h)), h);
  }
  EXPECT_EQ(ParseHealth("healthy"), std::nullopt);
}

TEST(IsWorseTest, ArgoOrder) {
  EXPECT_TRUE(IsWorse(Health::kSuspended, Health::kHealthy));
  EXPECT_TRUE(IsWorse(Health::kProgressing, Health::kSuspended));
  EXPECT_TRUE(IsWorse(Health::kMissing, Health::kProgressing));
  EXPECT_TRUE(IsWorse(Health::kDegraded, Health::kMissing));
  EXPECT_TRUE(IsWorse(Health::kUnknown, Health::kDegraded));
  EXPECT_FALSE(IsWorse(Health::kHealthy, Health::kHealthy));
  EXPECT_FALSE(IsWorse(Health::kHealthy, Health::kDegraded));
}

}  // namespace
}  // namespace gantry::manifest
