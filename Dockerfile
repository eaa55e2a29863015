# The kube-ipvs image: `kube-ipvs` as the entrypoint (the chart's command), `lvsadm` on the
# PATH, and the tools the backends call: iptables, ipset, modprobe (kmod) and conntrack.
# A unit test (test/unit/delivery/dockerfile.test.ts) checks that every path copied here
# exists after a build and that the entrypoint and the config path match the chart.

# Build: the native netlink addon (node-gyp: python3, make and g++ are in this image), the
# TypeScript, and the two programs bundled with their dependencies (scripts/bundle.mjs):
# the runtime stage needs no node_modules.
FROM node:24 AS build
WORKDIR /src
COPY package.json package-lock.json binding.gyp tsconfig.json ./
COPY native ./native
RUN npm ci --ignore-scripts --no-audit --no-fund && npx --no-install node-gyp rebuild
COPY lib ./lib
COPY bindings ./bindings
COPY scripts/bundle.mjs ./scripts/bundle.mjs
RUN npm run build

# Runtime: Node 24 LTS, slim, on the same Debian release as node:24 (the addon links its glibc).
FROM node:24-slim
RUN apt-get update \
  && apt-get install -y --no-install-recommends iptables ipset kmod conntrack \
  && rm -rf /var/lib/apt/lists/*
WORKDIR /opt/kube-ipvs
COPY --from=build /src/package.json /src/binding.gyp ./
COPY --from=build /src/build/Release/netlink.node ./build/Release/netlink.node
COPY --from=build /src/dist/bundle ./dist/bundle
COPY bin ./bin
RUN ln -s /opt/kube-ipvs/bin/kube-ipvs.js /usr/local/bin/kube-ipvs \
  && ln -s /opt/kube-ipvs/bin/lvsadm.js /usr/local/bin/lvsadm
ENTRYPOINT ["kube-ipvs"]
CMD ["run", "--config", "/etc/kube-ipvs/config.yaml"]
