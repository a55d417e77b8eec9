"""Training: training sets over cutoffs, the booster, baselines and evaluation.

Also the model card and what a run records in MLflow. Never imports `models.scoring`.
"""
