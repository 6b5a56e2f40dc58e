"""RDS on the local cloud: the lab instance's endpoint is the local MariaDB."""
