"""Ways a host hands over a signed-in user: a signed launch token, the server-to-server API."""
