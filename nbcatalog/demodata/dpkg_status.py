# ruff: noqa: E501 - real dpkg stanzas keep their long Depends lines
"""Real stanzas from Debian bookworm's ``/var/lib/dpkg/status`` (long descriptions and conffiles cut).

The demo's base layer installs these; the demo rewrites a few ``Version`` fields per tag so diffs
between tags show upgrades.
"""

BOOKWORM_STATUS = """\
Package: base-files
Essential: yes
Status: install ok installed
Priority: required
Section: admin
Installed-Size: 341
Maintainer: Santiago Vila <sanvila@debian.org>
Architecture: amd64
Multi-Arch: foreign
Version: 12.4+deb12u11
Pre-Depends: awk
Description: Debian base system miscellaneous files

Package: bash
Essential: yes
Status: install ok installed
Priority: required
Section: shells
Installed-Size: 7164
Maintainer: Matthias Klose <doko@debian.org>
Architecture: amd64
Multi-Arch: foreign
Source: bash (5.2.15-2)
Version: 5.2.15-2+b8
Depends: base-files (>= 2.1.12), debianutils (>= 5.6-0.1)
Pre-Depends: libc6 (>= 2.36), libtinfo6 (>= 6)
Description: GNU Bourne Again SHell
Homepage: http://tiswww.case.edu/php/chet/bash/bashtop.html

Package: coreutils
Essential: yes
Status: install ok installed
Priority: required
Section: utils
Installed-Size: 18062
Maintainer: Michael Stone <mstone@debian.org>
Architecture: amd64
Multi-Arch: foreign
Version: 9.1-1
Pre-Depends: libacl1 (>= 2.2.23), libattr1 (>= 1:2.4.44), libc6 (>= 2.34), libgmp10 (>= 2:6.2.1+dfsg1), libselinux1 (>= 3.1~)
Description: GNU core utilities
Homepage: http://gnu.org/software/coreutils

Package: libc6
Status: install ok installed
Priority: optional
Section: libs
Installed-Size: 13001
Maintainer: GNU Libc Maintainers <debian-glibc@lists.debian.org>
Architecture: amd64
Multi-Arch: same
Source: glibc
Version: 2.36-9+deb12u14
Depends: libgcc-s1
Description: GNU C Library: Shared libraries
Homepage: https://www.gnu.org/software/libc/libc.html

Package: dash
Essential: yes
Status: install ok installed
Priority: required
Section: shells
Installed-Size: 191
Maintainer: Andrej Shadura <andrewsh@debian.org>
Architecture: amd64
Multi-Arch: foreign
Version: 0.5.12-2
Depends: debianutils (>= 5.6-0.1), dpkg (>= 1.19.1)
Pre-Depends: libc6 (>= 2.34)
Description: POSIX-compliant shell
Homepage: http://gondor.apana.org.au/~herbert/dash/

Package: debianutils
Essential: yes
Status: install ok installed
Priority: required
Section: utils
Installed-Size: 243
Maintainer: Clint Adams <clint@debian.org>
Architecture: amd64
Multi-Arch: foreign
Version: 5.7-0.5~deb12u1
Pre-Depends: libc6 (>= 2.34)
Description: Miscellaneous utilities specific to Debian

Package: tar
Essential: yes
Status: install ok installed
Priority: required
Section: utils
Installed-Size: 3144
Maintainer: Janos Lenart <ocsi@debian.org>
Architecture: amd64
Multi-Arch: foreign
Version: 1.34+dfsg-1.2+deb12u1
Pre-Depends: libacl1 (>= 2.2.23), libc6 (>= 2.34), libselinux1 (>= 3.1~)
Description: GNU version of the tar archiving utility
Homepage: https://www.gnu.org/software/tar/

Package: gzip
Essential: yes
Status: install ok installed
Priority: required
Section: utils
Installed-Size: 252
Maintainer: Milan Kupcevic <milan@debian.org>
Architecture: amd64
Version: 1.12-1
Depends: dpkg (>= 1.15.4) | install-info
Pre-Depends: libc6 (>= 2.33)
Description: GNU compression utilities
Homepage: https://www.gnu.org/software/gzip/

Package: zlib1g
Status: install ok installed
Priority: optional
Section: libs
Installed-Size: 168
Maintainer: Mark Brown <broonie@debian.org>
Architecture: amd64
Multi-Arch: same
Source: zlib
Version: 1:1.2.13.dfsg-1
Depends: libc6 (>= 2.14)
Description: compression library - runtime
Homepage: http://zlib.net/

Package: libssl3
Status: install ok installed
Priority: optional
Section: libs
Installed-Size: 6029
Maintainer: Debian OpenSSL Team <pkg-openssl-devel@alioth-lists.debian.net>
Architecture: amd64
Multi-Arch: same
Source: openssl
Version: 3.0.19-1~deb12u2
Depends: libc6 (>= 2.34)
Description: Secure Sockets Layer toolkit - shared libraries
Homepage: https://www.openssl.org/

Package: openssl
Status: install ok installed
Priority: optional
Section: utils
Installed-Size: 2308
Maintainer: Debian OpenSSL Team <pkg-openssl-devel@alioth-lists.debian.net>
Architecture: amd64
Multi-Arch: foreign
Version: 3.0.19-1~deb12u2
Depends: libc6 (>= 2.34), libssl3 (>= 3.0.9)
Description: Secure Sockets Layer toolkit - cryptographic utility
Homepage: https://www.openssl.org/

Package: ca-certificates
Status: install ok installed
Priority: standard
Section: misc
Installed-Size: 387
Maintainer: Julien Cristau <jcristau@debian.org>
Architecture: all
Multi-Arch: foreign
Version: 20230311+deb12u1
Depends: openssl (>= 1.1.1), debconf (>= 0.5) | debconf-2.0
Description: Common CA certificates

Package: curl
Status: install ok installed
Priority: optional
Section: web
Installed-Size: 489
Maintainer: Alessandro Ghedini <ghedo@debian.org>
Architecture: amd64
Multi-Arch: foreign
Version: 7.88.1-10+deb12u14
Depends: libc6 (>= 2.34), libcurl4 (= 7.88.1-10+deb12u14), zlib1g (>= 1:1.1.4)
Description: command line tool for transferring data with URL syntax
Homepage: https://curl.se/

Package: libcurl4
Status: install ok installed
Priority: optional
Section: libs
Installed-Size: 840
Maintainer: Alessandro Ghedini <ghedo@debian.org>
Architecture: amd64
Multi-Arch: same
Source: curl
Version: 7.88.1-10+deb12u14
Depends: libbrotli1 (>= 0.6.0), libc6 (>= 2.34), libgssapi-krb5-2 (>= 1.17), libidn2-0 (>= 0.6), libldap-2.5-0 (>= 2.5.4), libnghttp2-14 (>= 1.50.0), libpsl5 (>= 0.16.0), librtmp1 (>= 2.3), libssh2-1 (>= 1.7.0), libssl3 (>= 3.0.0), libzstd1 (>= 1.5.2), zlib1g (>= 1:1.1.4)
Description: easy-to-use client-side URL transfer library (OpenSSL flavour)
Homepage: https://curl.se/

Package: git
Status: install ok installed
Priority: optional
Section: vcs
Installed-Size: 44890
Maintainer: Jonathan Nieder <jrnieder@gmail.com>
Architecture: amd64
Multi-Arch: foreign
Version: 1:2.39.5-0+deb12u3
Depends: libc6 (>= 2.34), libcurl3-gnutls (>= 7.56.1), libexpat1 (>= 2.0.1), libpcre2-8-0 (>= 10.34), zlib1g (>= 1:1.2.2), perl, liberror-perl, git-man (>> 1:2.39.5), git-man (<< 1:2.39.5-.)
Description: fast, scalable, distributed revision control system
Homepage: https://git-scm.com/

Package: locales
Status: install ok installed
Priority: standard
Section: localization
Installed-Size: 15847
Maintainer: GNU Libc Maintainers <debian-glibc@lists.debian.org>
Architecture: all
Source: glibc
Version: 2.36-9+deb12u14
Depends: libc-bin (>> 2.36), libc-l10n (>> 2.36), debconf (>= 0.5) | debconf-2.0
Description: GNU C Library: National Language (locale) data [support]
Homepage: https://www.gnu.org/software/libc/libc.html

Package: tzdata
Status: install ok installed
Priority: required
Section: localization
Installed-Size: 2565
Maintainer: GNU Libc Maintainers <debian-glibc@lists.debian.org>
Architecture: all
Multi-Arch: foreign
Version: 2025b-0+deb12u2
Depends: debconf (>= 0.5) | debconf-2.0
Description: time zone and daylight-saving time data
Homepage: https://www.iana.org/time-zones

Package: wget
Status: install ok installed
Priority: standard
Section: web
Installed-Size: 3521
Maintainer: Noël Köthe <noel@debian.org>
Architecture: amd64
Multi-Arch: foreign
Version: 1.21.3-1+deb12u1
Depends: libc6 (>= 2.34), libgnutls30 (>= 3.7.5), libidn2-0 (>= 0.6), libnettle8, libpcre2-8-0 (>= 10.22), libpsl5 (>= 0.16.0), libuuid1 (>= 2.16), zlib1g (>= 1:1.1.4)
Description: retrieves files from the web
Homepage: https://www.gnu.org/software/wget/

Package: bzip2
Status: install ok installed
Priority: standard
Section: utils
Installed-Size: 121
Maintainer: Anibal Monsalve Salazar <anibal@debian.org>
Architecture: amd64
Multi-Arch: foreign
Source: bzip2 (1.0.8-5)
Version: 1.0.8-5+b1
Depends: libbz2-1.0 (= 1.0.8-5+b1), libc6 (>= 2.34)
Description: high-quality block-sorting file compressor - utilities
Homepage: https://sourceware.org/bzip2/

Package: xz-utils
Status: install ok installed
Priority: standard
Section: utils
Installed-Size: 1226
Maintainer: Sebastian Andrzej Siewior <sebastian@breakpoint.cc>
Architecture: amd64
Multi-Arch: foreign
Version: 5.4.1-1
Depends: libc6 (>= 2.34), liblzma5 (>= 5.4.0)
Description: XZ-format compression utilities
Homepage: https://tukaani.org/xz/

Package: perl-base
Essential: yes
Status: install ok installed
Priority: required
Section: perl
Installed-Size: 7643
Maintainer: Niko Tyni <ntyni@debian.org>
Architecture: amd64
Source: perl
Version: 5.36.0-7+deb12u4
Pre-Depends: libc6 (>= 2.35), libcrypt1 (>= 1:4.1.0), dpkg (>= 1.17.17)
Description: minimal Perl system
Homepage: http://dev.perl.org/perl5/

Package: ncurses-base
Essential: yes
Status: install ok installed
Priority: required
Section: misc
Installed-Size: 379
Maintainer: Craig Small <csmall@debian.org>
Architecture: all
Multi-Arch: foreign
Source: ncurses
Version: 6.4-4
Description: basic terminal type definitions
Homepage: https://invisible-island.net/ncurses/

Package: libstdc++6
Status: install ok installed
Priority: optional
Section: libs
Installed-Size: 2686
Maintainer: Debian GCC Maintainers <debian-gcc@lists.debian.org>
Architecture: amd64
Multi-Arch: same
Source: gcc-12
Version: 12.2.0-14+deb12u1
Depends: gcc-12-base (= 12.2.0-14+deb12u1), libc6 (>= 2.36), libgcc-s1 (>= 4.2)
Description: GNU Standard C++ Library v3
Homepage: http://gcc.gnu.org/

Package: libgcc-s1
Status: install ok installed
Priority: optional
Section: libs
Installed-Size: 140
Maintainer: Debian GCC Maintainers <debian-gcc@lists.debian.org>
Architecture: amd64
Multi-Arch: same
Source: gcc-12
Version: 12.2.0-14+deb12u1
Depends: gcc-12-base (= 12.2.0-14+deb12u1), libc6 (>= 2.35)
Description: GCC support library
Homepage: http://gcc.gnu.org/

Package: apt
Status: install ok installed
Priority: required
Section: admin
Installed-Size: 4232
Maintainer: APT Development Team <deity@lists.debian.org>
Architecture: amd64
Version: 2.6.1
Depends: adduser, gpgv | gpgv2 | gpgv1, libapt-pkg6.0 (>= 2.6.1), debian-archive-keyring, libc6 (>= 2.34), libgcc-s1 (>= 3.0), libgnutls30 (>= 3.7.5), libseccomp2 (>= 2.4.2), libstdc++6 (>= 11), libsystemd0
Description: commandline package manager

Package: dpkg
Essential: yes
Status: install ok installed
Priority: required
Section: admin
Installed-Size: 6409
Maintainer: Dpkg Developers <debian-dpkg@lists.debian.org>
Architecture: amd64
Multi-Arch: foreign
Version: 1.21.22
Depends: tar (>= 1.28-1)
Pre-Depends: libbz2-1.0, libc6 (>= 2.34), liblzma5 (>= 5.4.0), libmd0 (>= 0.0.0), libselinux1 (>= 3.1~), libzstd1 (>= 1.5.2), zlib1g (>= 1:1.1.4)
Description: Debian package management system
Homepage: https://wiki.debian.org/Teams/Dpkg

Package: grep
Essential: yes
Status: install ok installed
Priority: required
Section: utils
Installed-Size: 1245
Maintainer: Anibal Monsalve Salazar <anibal@debian.org>
Architecture: amd64
Multi-Arch: foreign
Version: 3.8-5
Depends: dpkg (>= 1.15.4) | install-info
Pre-Depends: libc6 (>= 2.34), libpcre2-8-0 (>= 10.32)
Description: GNU grep, egrep and fgrep
Homepage: https://www.gnu.org/software/grep/

Package: sed
Essential: yes
Status: install ok installed
Priority: required
Section: utils
Installed-Size: 987
Maintainer: Clint Adams <clint@debian.org>
Architecture: amd64
Multi-Arch: foreign
Version: 4.9-1
Pre-Depends: libacl1 (>= 2.2.23), libc6 (>= 2.34), libselinux1 (>= 3.1~)
Description: GNU stream editor for filtering/transforming text
Homepage: https://www.gnu.org/software/sed/

Package: findutils
Essential: yes
Status: install ok installed
Priority: required
Section: utils
Installed-Size: 1746
Maintainer: Andreas Metzler <ametzler@debian.org>
Architecture: amd64
Multi-Arch: foreign
Version: 4.9.0-4
Pre-Depends: libc6 (>= 2.34), libselinux1 (>= 3.1~)
Description: utilities for finding files--find, xargs
Homepage: https://savannah.gnu.org/projects/findutils/

Package: util-linux
Essential: yes
Status: install ok installed
Priority: required
Section: utils
Installed-Size: 4978
Maintainer: util-linux packagers <util-linux@packages.debian.org>
Architecture: amd64
Multi-Arch: foreign
Version: 2.38.1-5+deb12u3
Depends: util-linux-extra
Pre-Depends: libblkid1 (>= 2.37.2), libc6 (>= 2.34), libcap-ng0 (>= 0.7.9), libcrypt1 (>= 1:4.1.0), libmount1 (>= 2.38), libpam0g (>= 0.99.7.1), libselinux1 (>= 3.1~), libsmartcols1 (>= 2.38), libsystemd0, libtinfo6 (>= 6), libudev1 (>= 183), libuuid1 (>= 2.16), zlib1g (>= 1:1.1.4)
Description: miscellaneous system utilities
Homepage: https://www.kernel.org/pub/linux/utils/util-linux/

Package: libsqlite3-0
Status: install ok installed
Priority: optional
Section: libs
Installed-Size: 1682
Maintainer: Laszlo Boszormenyi (GCS) <gcs@debian.org>
Architecture: amd64
Multi-Arch: same
Source: sqlite3
Version: 3.40.1-2+deb12u2
Depends: libc6 (>= 2.34)
Description: SQLite 3 shared library
Homepage: https://www.sqlite.org/

Package: less
Status: install ok installed
Priority: important
Section: text
Installed-Size: 313
Maintainer: Milan Kupcevic <milan@debian.org>
Architecture: amd64
Multi-Arch: foreign
Version: 590-2.1~deb12u2
Depends: libc6 (>= 2.34), libtinfo6 (>= 6)
Description: pager program similar to more
Homepage: http://www.greenwoodsoftware.com/less/

Package: unzip
Status: install ok installed
Priority: optional
Section: utils
Installed-Size: 379
Maintainer: Santiago Vila <sanvila@debian.org>
Architecture: amd64
Multi-Arch: foreign
Version: 6.0-28
Depends: libbz2-1.0, libc6 (>= 2.34)
Description: De-archiver for .zip files
Homepage: https://infozip.sourceforge.net/UnZip.html

Package: gnupg
Status: install ok installed
Priority: optional
Section: utils
Installed-Size: 886
Maintainer: Debian GnuPG Maintainers <pkg-gnupg-maint@lists.alioth.debian.org>
Architecture: all
Multi-Arch: foreign
Source: gnupg2
Version: 2.2.40-1.1+deb12u2
Depends: dirmngr (<< 2.2.40-1.1+deb12u2.1~), dirmngr (>= 2.2.40-1.1+deb12u2), gnupg-l10n (= 2.2.40-1.1+deb12u2), gnupg-utils (<< 2.2.40-1.1+deb12u2.1~), gnupg-utils (>= 2.2.40-1.1+deb12u2), gpg (<< 2.2.40-1.1+deb12u2.1~), gpg (>= 2.2.40-1.1+deb12u2), gpg-agent (<< 2.2.40-1.1+deb12u2.1~), gpg-agent (>= 2.2.40-1.1+deb12u2), gpg-wks-client (<< 2.2.40-1.1+deb12u2.1~), gpg-wks-client (>= 2.2.40-1.1+deb12u2), gpg-wks-server (<< 2.2.40-1.1+deb12u2.1~), gpg-wks-server (>= 2.2.40-1.1+deb12u2), gpgsm (<< 2.2.40-1.1+deb12u2.1~), gpgsm (>= 2.2.40-1.1+deb12u2), gpgv (<< 2.2.40-1.1+deb12u2.1~), gpgv (>= 2.2.40-1.1+deb12u2)
Description: GNU privacy guard - a free PGP replacement
Homepage: https://www.gnupg.org/

Package: procps
Status: install ok installed
Priority: important
Section: admin
Installed-Size: 2091
Maintainer: Craig Small <csmall@debian.org>
Architecture: amd64
Multi-Arch: foreign
Version: 2:4.0.2-3
Depends: libc6 (>= 2.34), libncursesw6 (>= 6), libproc2-0 (>= 2:4.0.2), libtinfo6 (>= 6), init-system-helpers (>= 1.29~)
Description: /proc file system utilities
Homepage: https://gitlab.com/procps-ng/procps
"""
