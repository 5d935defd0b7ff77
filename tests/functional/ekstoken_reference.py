"""Print the token the eks-token package makes for a cluster at a fixed time.

Run by test_eks_token.py with the interpreter of the separate `.venv-ekstoken`
(eks-token pulls in awscli, which replaces `botocore`; it must not share a
process or a venv with pullmedic). Arguments: cluster, region, ISO timestamp.
"""

import sys
from datetime import datetime

import awscli  # noqa: F401, I001  (first: installs the hook that serves awscli's own botocore)
import botocore.auth
import eks_token

cluster, region, when = sys.argv[1:4]
botocore.auth.get_current_datetime = lambda: datetime.fromisoformat(when)
print(eks_token.get_token(cluster_name=cluster, region_name=region)["status"]["token"])
