"""Model side of advocacy: training sets, training, evaluation, registry and scoring."""
