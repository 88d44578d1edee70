module github.com/docker/distribution

go 1.22
