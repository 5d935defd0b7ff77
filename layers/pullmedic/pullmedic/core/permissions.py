"""The AWS read actions the bot needs: the one list the template's IAM policy must match.

Every action here only reads. The function's write actions (publish to its own topic, use
its own state table and failure queue) are scoped to those resources in template.yaml and
are not listed here; nor are the opt-in remediation writes, which each action declares in
its META.permissions (granted only when RemediationMode is not off). A check that starts
calling a new AWS API adds the action here and in the template's read statements;
tests/deploy compares the two.
"""

from __future__ import annotations

# EKS control plane: which clusters, how to reach them, what computes the pods.
EKS_READ_ACTIONS: frozenset[str] = frozenset({
    "eks:ListClusters",  # scan: every cluster of the region when no cluster list is configured
    "eks:DescribeCluster",  # scan: API endpoint and CA; auth mode, VPC, Auto Mode node role
    "eks:DescribeFargateProfile",  # Fargate: the pod execution role that pulls, its subnets
})

# EC2: the node behind a pod and the network path from it to the registry.
EC2_READ_ACTIONS: frozenset[str] = frozenset({
    "ec2:DescribeInstances",  # node: architecture, subnet, security groups, instance profile
    "ec2:DescribeRegions",  # wrong region: the account's Regions, to look for the image elsewhere
    "ec2:DescribeInstanceTypes",  # IP exhaustion: ENIs and IPs per ENI of the instance type
    "ec2:DescribeNetworkInterfaces",  # IP exhaustion and Fargate: ENIs, pod ENI subnet and SGs
    "ec2:DescribeSubnets",  # IP exhaustion: free IPs left in the node's subnet
    "ec2:DescribeRouteTables",  # network path: default route, NAT, blackhole routes
    "ec2:DescribeNetworkAcls",  # network path: NACL rules for 443 out and ephemeral ports in
    "ec2:DescribeSecurityGroups",  # network path: node egress and endpoint ingress on 443
    "ec2:DescribeVpcEndpoints",  # network path: ecr.api, ecr.dkr and s3 endpoints, policies
    "ec2:DescribeNatGateways",  # network path and rate limit: NAT state and shared public IP
    "ec2:DescribeVpcs",  # network path: the VPC's DHCP options set
    "ec2:DescribeVpcAttribute",  # network path: enableDnsSupport / enableDnsHostnames
    "ec2:DescribePrefixLists",  # network path: the S3 prefix list in security group rules
    "ec2:GetManagedPrefixListEntries",  # S3 hop: the prefix list's CIDRs where Describe omits them
})

# IAM: what the node role (or Fargate pod execution role) is allowed to pull.
IAM_READ_ACTIONS: frozenset[str] = frozenset({
    "iam:GetInstanceProfile",  # node role: instance profile of the node -> its role
    "iam:ListAttachedRolePolicies",  # ECR auth: managed policies of the node role
    "iam:ListRolePolicies",  # ECR auth: inline policy names of the node role
    "iam:GetRolePolicy",  # ECR auth: inline policy documents of the node role
    "iam:SimulatePrincipalPolicy",  # ECR auth: the simulator also weighs SCPs and boundaries
    "iam:GetPolicy",  # ECR auth: default version of an attached policy
    "iam:GetPolicyVersion",  # ECR auth: the document of that version
})

# ECR: does the image exist, where, and may the node pull it.
ECR_READ_ACTIONS: frozenset[str] = frozenset({
    "ecr:DescribeRepositories",  # not found / wrong region: repository exists; its KMS key
    "ecr:DescribeImages",  # not found / archived: tag or digest present, imageStatus
    "ecr:BatchGetImage",  # platform mismatch: the manifest list's platforms
    "ecr:GetRepositoryPolicy",  # cross-account auth: the repository policy names the node role
    "ecr:GetLifecyclePolicy",  # not found: a lifecycle rule that selects the missing tag
    "ecr:DescribePullThroughCacheRules",  # rate limit / PTC: the cache rules and upstreams
})

# KMS: a repository encrypted with a key that no longer works.
KMS_READ_ACTIONS: frozenset[str] = frozenset({
    "kms:DescribeKey",  # ecr_kms_key: the state of the repository's customer managed key
})

# Doctor (the function's own account only): access entries, the alert topic, the state table.
DOCTOR_READ_ACTIONS: frozenset[str] = frozenset({
    "eks:ListAccessEntries",  # doctor: does the function's role have an access entry
    "eks:DescribeAccessEntry",  # doctor: its type and Kubernetes groups
    "eks:ListAssociatedAccessPolicies",  # doctor: AmazonEKSViewPolicy associated, and its scope
    "sns:ListSubscriptionsByTopic",  # doctor: is anyone subscribed to the alert topic
    "sns:GetSubscriptionAttributes",  # doctor: an e-mail still PendingConfirmation
    "dynamodb:DescribeTable",  # doctor: the state table exists and is ACTIVE
    "dynamodb:DescribeTimeToLive",  # doctor: TTL on expires_at
})

# What a scan reads, in the function's account and in each member account (member-account.yaml).
SCAN_READ_ACTIONS: frozenset[str] = (
    EKS_READ_ACTIONS | EC2_READ_ACTIONS | IAM_READ_ACTIONS | ECR_READ_ACTIONS | KMS_READ_ACTIONS
)
READ_ACTIONS: frozenset[str] = SCAN_READ_ACTIONS | DOCTOR_READ_ACTIONS
