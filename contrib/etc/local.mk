# contrib/etc: example configuration, installed as examples by `make install`
# (the Debian packages install them as conffiles under /etc/smartproxy/).
sp_examplesdir = $(docdir)/examples
dist_sp_examples_DATA = \
	contrib/etc/server.yaml contrib/etc/pairing \
	contrib/etc/client.yaml contrib/etc/api.yaml
