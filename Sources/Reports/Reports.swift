import Audit

/// PDF QA reports, plots and the failure-case gallery.
public enum ReportsLibrary {}
