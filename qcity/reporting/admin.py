"""Nothing here: cycles and reports change only through reporting.services (audited
workflow steps), and the administrators (三员分立) see no business data."""
