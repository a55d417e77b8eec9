"""Scoring: probabilities, SHAP reasons, segments and programs, files and report.

Never imports `models.training`.
"""
