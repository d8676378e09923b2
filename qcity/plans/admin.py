# Plans change only through `qcity import_plan` and the plan pages; under 三员分立
# the administrators see no business data, so plans are not in the admin site.
