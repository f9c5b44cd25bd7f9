"""Where an application is handled: the applicant's region, found per application (issue 23)."""
