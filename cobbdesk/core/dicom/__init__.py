"""Reading radiographs and turning their pixels into display images."""
