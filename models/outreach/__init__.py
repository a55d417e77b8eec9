"""What outreach does: measured lift, incremental advocates and ROI against control groups."""
