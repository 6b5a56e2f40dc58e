"""Small, dependency-light models of the ideas the lessons teach.

One module per idea: ``ec2`` (instance-type names), ``regions`` (regions, zones,
choosing a region), ``vpc`` (CIDR maths, security groups), ``costs`` (billing,
elasticity, idle resources), ``history``, ``lifecycle``, ``pipeline`` (a toy
end-to-end pipeline), ``requirements``, ``value``, ``ingestion``, ``storage``,
``grain`` (row explosion), ``quality``, ``security``, ``dag``, ``architecture``
and ``design``. Import the module you need; nothing is imported here.
"""
