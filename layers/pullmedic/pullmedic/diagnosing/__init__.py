"""From a failing pod to a proven cause: the message classifier and its rules, the evidence facts, one
module per check, the network path evaluation."""
