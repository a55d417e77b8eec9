"""What outreach does: measured lift and ROI against control groups, and an uplift model."""
